package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
}
