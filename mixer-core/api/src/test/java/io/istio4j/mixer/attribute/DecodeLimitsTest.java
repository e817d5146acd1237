package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.StringMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every limit is exact (the limit passes, one more fails) and means the same for Check and Report,
 * as docs/operator-guide.md says, whether or not a rule reads the attribute.
 */
class DecodeLimitsTest {

  private static final DecodeLimits SMALL = new DecodeLimits(40, 3, 60, 10, 2);

  /** A map attribute "request.headers" with {@code entries} distinct keys, and nothing else. */
  private static CompressedAttributes withMap(int entries) {
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    StringMap.Builder m = StringMap.newBuilder();
    for (int i = 0; i < entries; i++) {
      b.addWords("k" + i);
      m.putEntries(-1 - i, -1 - i);
    }
    b.addWords("request.headers");
    return b.putStringMaps(-1 - entries, m.build()).build();
  }

  /** {@code n} string attributes a0..a(n-1), names and values in the message dictionary. */
  private static CompressedAttributes withAttributes(int n) {
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    for (int i = 0; i < n; i++) {
      b.addWords("attr.a" + i);
      b.putStrings(-1 - i, -1 - i);
    }
    return b.build();
  }

  private static byte[] check(CompressedAttributes a) {
    return CheckRequest.newBuilder().setAttributes(a).build().toByteArray();
  }

  private static byte[] report(CompressedAttributes a) {
    return ReportRequest.newBuilder().addAttributes(a).build().toByteArray();
  }

  private static List<Map<String, Object>> records(byte[] report, DecodeLimits limits) {
    List<Map<String, Object>> out = new ArrayList<>();
    RequestDecoder.decodeReport(report, limits).forEachRecord(bag -> out.add(bag.toMap()));
    return out;
  }

  @Test
  void aStringMapAtTheLimitIsAcceptedByCheckAndReport() {
    Map<String, String> three = Map.of("k0", "k0", "k1", "k1", "k2", "k2");
    assertThat(RequestDecoder.decodeCheck(check(withMap(3)), SMALL).attributes().toMap())
        .containsEntry("request.headers", three);
    assertThat(records(report(withMap(3)), SMALL)).singleElement()
        .satisfies(r -> assertThat(r).containsEntry("request.headers", three));
  }

  @Test
  void aStringMapOverTheLimitFailsCheckAndReportEvenWhenNoRuleReadsIt() {
    // Before: Check accepted it unless a rule read the map; Report always refused it.
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(check(withMap(4)), SMALL))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessage("request too large: a string map has more than 3 entries");
    assertThatThrownBy(() -> records(report(withMap(4)), SMALL))
        .isInstanceOf(AttributeDecodeException.class)
        .hasMessage("request too large: a string map has more than 3 entries");
  }

  @Test
  void theDefaultMapLimitIs4096ForBoth() {
    assertThat(RequestDecoder.decodeCheck(check(withMap(4096))).attributes().toMap()).hasSize(1);
    assertThat(records(report(withMap(4096)), DecodeLimits.DEFAULT)).hasSize(1);
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(check(withMap(4097))))
        .hasMessage("request too large: a string map has more than 4096 entries");
    assertThatThrownBy(() -> RequestDecoder.decodeReport(report(withMap(4097))))
        .hasMessage("request too large: a string map has more than 4096 entries");
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 17, 31, 40})
  void attributesUpToTheLimitAreAccepted(int limit) {
    DecodeLimits limits = new DecodeLimits(limit, 10, 10_000, 10, 2);
    assertThat(RequestDecoder.decodeCheck(check(withAttributes(limit)), limits).attributes().toMap()).hasSize(limit);
    assertThat(records(report(withAttributes(limit)), limits).get(0)).hasSize(limit);
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 17, 31, 40})
  void oneAttributeOverTheLimitFailsCheckAndReport(int limit) {
    // Before: the limit was checked only when the arrays grew, so up to 1.5x the limit got in.
    DecodeLimits limits = new DecodeLimits(limit, 10, 10_000, 10, 2);
    String expected = "request too large: more than " + limit + " attributes in one message";
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(check(withAttributes(limit + 1)), limits)).hasMessage(expected);
    assertThatThrownBy(() -> RequestDecoder.decodeReport(report(withAttributes(limit + 1)), limits)).hasMessage(expected);
  }

  @ParameterizedTest
  @ValueSource(ints = {5, 23, 60})
  void wordsAreLimitedExactly(int limit) {
    DecodeLimits limits = new DecodeLimits(4096, 10, limit, 10, 2);
    CompressedAttributes.Builder ok = CompressedAttributes.newBuilder();
    for (int i = 0; i < limit; i++) {
      ok.addWords("w" + i);
    }
    assertThat(RequestDecoder.decodeCheck(check(ok.build()), limits).attributes().toMap()).isEmpty();
    CompressedAttributes over = ok.addWords("one.more").build();
    String expected = "request too large: more than " + limit + " words in a message dictionary";
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(check(over), limits)).hasMessage(expected);
    assertThatThrownBy(() -> RequestDecoder.decodeReport(report(over), limits)).hasMessage(expected);
  }

  @Test
  void quotasPerCheckAreBounded() {
    CheckRequest.QuotaParams one = CheckRequest.QuotaParams.newBuilder().setAmount(1).build();
    CheckRequest.Builder b = CheckRequest.newBuilder().putQuotas("a", one).putQuotas("b", one);
    assertThat(RequestDecoder.decodeCheck(b.build().toByteArray(), SMALL).quotas()).hasSize(2);
    byte[] three = b.putQuotas("c", one).build().toByteArray();
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(three, SMALL))
        .hasMessage("request too large: more than 2 quotas in one Check");
    CheckRequest.Builder many = CheckRequest.newBuilder();
    for (int i = 0; i < 65; i++) {
      many.putQuotas("q" + i, one);
    }
    assertThatThrownBy(() -> RequestDecoder.decodeCheck(many.build().toByteArray()))
        .hasMessage("request too large: more than 64 quotas in one Check");
  }
}
