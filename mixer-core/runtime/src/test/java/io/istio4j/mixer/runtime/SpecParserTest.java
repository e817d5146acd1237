package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import com.google.protobuf.util.Durations;
import io.istio4j.mixer.runtime.testing.Quota;
import io.istio4j.mixer.runtime.testing.TestParams;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpecParserTest {

  @Test
  void readsLowerCamelAndSnakeCaseNamesDurationsEnumsMapsAndLists() throws Exception {
    Map<String, Object> spec = Map.of(
        "mode", "DENY",
        "validDuration", "1.5s",
        "valid_use_count", 7,
        "labels", Map.of("a", "b"),
        "quotas", List.of(Map.of("name", "requestcount.quota.istio-system", "max_amount", 5000)));
    TestParams parsed = (TestParams) SpecParser.parse(spec, TestParams.getDefaultInstance());
    assertThat(parsed).isEqualTo(TestParams.newBuilder()
        .setMode(TestParams.Mode.DENY)
        .setValidDuration(Durations.fromMillis(1500))
        .setValidUseCount(7)
        .putLabels("a", "b")
        .addQuotas(Quota.newBuilder().setName("requestcount.quota.istio-system").setMaxAmount(5000))
        .build());
  }

  @Test
  void startsFromThePrototypesValues() throws Exception {
    TestParams defaults = TestParams.newBuilder().setValidUseCount(1000).setMode(TestParams.Mode.ALLOW).build();
    TestParams parsed = (TestParams) SpecParser.parse(Map.of("mode", "DENY"), defaults);
    assertThat(parsed.getValidUseCount()).isEqualTo(1000);
    assertThat(parsed.getMode()).isEqualTo(TestParams.Mode.DENY);

    TestParams zeroed = (TestParams) SpecParser.parse(Map.of("valid_use_count", 0), defaults);
    assertThat(zeroed.getValidUseCount()).isZero();
    assertThat(zeroed.getMode()).isEqualTo(TestParams.Mode.ALLOW);
  }

  @Test
  void durationsMayBeWrittenAsGoDoes() throws Exception {
    TestParams parsed = (TestParams) SpecParser.parse(Map.of("validDuration", "1m30s"), TestParams.getDefaultInstance());
    assertThat(parsed.getValidDuration()).isEqualTo(Durations.fromSeconds(90));
    TestParams ms = (TestParams) SpecParser.parse(Map.of("valid_duration", "100ms"), TestParams.getDefaultInstance());
    assertThat(ms.getValidDuration()).isEqualTo(Durations.fromMillis(100));
    TestParams proto = (TestParams) SpecParser.parse(Map.of("validDuration", "0.25s"), TestParams.getDefaultInstance());
    assertThat(proto.getValidDuration()).isEqualTo(Durations.fromMillis(250));
  }

  @Test
  void anUnknownFieldIsAnErrorNamingIt() {
    assertThatThrownBy(() -> SpecParser.parse(Map.of("validUseCnt", 3), TestParams.getDefaultInstance()))
        .isInstanceOf(SpecParser.SpecException.class)
        .hasMessageContaining("validUseCnt");
  }

  @Test
  void badValuesAreErrorsNamingTheProblem() {
    assertThatThrownBy(() -> SpecParser.parse(Map.of("validDuration", "soon"), TestParams.getDefaultInstance()))
        .isInstanceOf(SpecParser.SpecException.class)
        .hasMessageContaining("soon");
    assertThatThrownBy(() -> SpecParser.parse(Map.of("mode", "MAYBE"), TestParams.getDefaultInstance()))
        .isInstanceOf(SpecParser.SpecException.class)
        .hasMessageContaining("MAYBE");
  }

  @Test
  void errorsNameTheFieldPathInsideTheSpec() {
    Map<String, Object> spec = Map.of("quotas", List.of(Map.of("name", "a"), Map.of("name", "b", "maxAmount", "lots")));
    assertThatThrownBy(() -> SpecParser.parse(spec, TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> {
          assertThat(e.field()).isEqualTo("quotas[1].maxAmount");
          assertThat(e.problem()).isEqualTo(
              "invalid value 'lots' (expected: an integer from -9223372036854775808 to 9223372036854775807)");
        });
    assertThatThrownBy(() -> SpecParser.parse(Map.of("validDuration", 10), TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> {
          assertThat(e.field()).isEqualTo("validDuration");
          assertThat(e.problem()).isEqualTo("invalid duration '10' (expected: like 10s, 1.5s or 1m30s)");
          assertThat(e.getMessage()).isEqualTo("validDuration: invalid duration '10' (expected: like 10s, 1.5s or 1m30s)");
        });
    assertThatThrownBy(() -> SpecParser.parse(Map.of("quotas", List.of(Map.of("nmae", "x"))),
        TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> {
          assertThat(e.field()).isEqualTo("quotas[0].nmae");
          assertThat(e.problem()).isEqualTo("unknown field (expected one of: name, maxAmount)");
        });
    assertThatThrownBy(() -> SpecParser.parse(Map.of("mode", "MAYBE"), TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> {
          assertThat(e.field()).isEqualTo("mode");
          assertThat(e.problem()).isEqualTo("invalid value 'MAYBE' (expected: one of MODE_UNSPECIFIED, ALLOW, DENY)");
        });
    assertThatThrownBy(() -> SpecParser.parse(Map.of("labels", List.of("a")), TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> assertThat(e.field()).isEqualTo("labels"));
    assertThatThrownBy(() -> SpecParser.parse(Map.of("validUseCount", 1L << 40), TestParams.getDefaultInstance()))
        .isInstanceOfSatisfying(SpecParser.SpecException.class, e -> assertThat(e.field()).isEqualTo("validUseCount"));
  }

  @Test
  void numbersMayBeWrittenAsStringsAndWholeFloats() throws Exception {
    TestParams parsed = (TestParams) SpecParser.parse(Map.of("validUseCount", "12",
        "quotas", List.of(Map.of("maxAmount", 5.0))), TestParams.getDefaultInstance());
    assertThat(parsed.getValidUseCount()).isEqualTo(12);
    assertThat(parsed.getQuotas(0).getMaxAmount()).isEqualTo(5);
  }

  @Test
  void aStructConfigTakesAnyMap() throws Exception {
    Struct parsed = (Struct) SpecParser.parse(
        Map.of("message", "go away", "nested", Map.of("n", 1)), Struct.getDefaultInstance());
    assertThat(parsed.getFieldsOrThrow("message").getStringValue()).isEqualTo("go away");
    assertThat(parsed.getFieldsOrThrow("nested").getStructValue().getFieldsOrThrow("n").getNumberValue()).isEqualTo(1);
  }
}
