package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.istio4j.adapters.stdio.config.Params;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class LineFormatTest {

  private static final Instant TIME = Instant.parse("2017-09-01T12:00:00.123456Z");
  private static final String INSTANCE = "accesslog.logentry.istio-system";
  private static final LineFormat JSON = new LineFormat(true);
  private static final LineFormat TEXT = new LineFormat(false);

  /** One variable of each type a template value can have, in no particular order. */
  private static Map<String, Object> everyType() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("url", "/reviews/1");
    v.put("responseCode", 200L);
    v.put("ratio", 0.5);
    v.put("cached", true);
    v.put("startTime", Instant.parse("2017-09-01T11:59:59.975Z"));
    v.put("latency", Duration.ofMillis(25));
    v.put("sourceIp", new byte[] {10, 0, 0, 1});
    v.put("headers", new TreeMap<>(Map.of("x-user", "jason", ":authority", "reviews")));
    return v;
  }

  @Test
  void jsonLogEntryHasLevelTimeInstanceThenVariablesSortedByName() {
    assertThat(JSON.logEntry("info", TIME, INSTANCE, everyType())).isEqualTo("{\"level\":\"info\","
        + "\"time\":\"2017-09-01T12:00:00.123Z\",\"instance\":\"accesslog.logentry.istio-system\","
        + "\"cached\":true,\"headers\":{\":authority\":\"reviews\",\"x-user\":\"jason\"},\"latency\":\"25ms\","
        + "\"ratio\":0.5,\"responseCode\":200,\"sourceIp\":\"10.0.0.1\",\"startTime\":\"2017-09-01T11:59:59.975Z\","
        + "\"url\":\"/reviews/1\"}");
  }

  @Test
  void jsonLinesParseAsJsonWithTheValuesTyped() throws Exception {
    JsonNode line = new ObjectMapper().readTree(JSON.logEntry("warn", TIME, INSTANCE, everyType()));
    assertThat(line.get("level").asText()).isEqualTo("warn");
    assertThat(line.get("responseCode").isIntegralNumber()).isTrue();
    assertThat(line.get("ratio").isDouble()).isTrue();
    assertThat(line.get("cached").isBoolean()).isTrue();
    assertThat(line.get("headers").get("x-user").asText()).isEqualTo("jason");
  }

  @Test
  void jsonMetricHasTheValueBeforeTheDimensions() {
    Map<String, Object> dimensions = new LinkedHashMap<>();
    dimensions.put("source", "productpage");
    dimensions.put("code", 200L);
    assertThat(JSON.metric("info", TIME, "requestcount.metric.istio-system", 1L, dimensions)).isEqualTo(
        "{\"level\":\"info\",\"time\":\"2017-09-01T12:00:00.123Z\",\"instance\":\"requestcount.metric.istio-system\","
            + "\"value\":1,\"code\":200,\"source\":\"productpage\"}");
    assertThat(JSON.metric("error", TIME, "latency.metric.istio-system", Duration.ofMillis(1500), Map.of()))
        .endsWith("\"value\":\"1.5s\"}");
  }

  @Test
  void jsonEscapesQuotesBackslashesAndControlCharacters() throws Exception {
    String nasty = "a \"quoted\" \\ path\nwith\ttabs\u0001 and ünïcode \u2028";
    String line = JSON.logEntry("info", TIME, INSTANCE, Map.of("url", nasty, "we\"ird", "x"));
    assertThat(line).contains("\"url\":\"a \\\"quoted\\\" \\\\ path\\nwith\\ttabs\\u0001 and ünïcode \\u2028\"")
        .contains("\"we\\\"ird\":\"x\"")
        .doesNotContain("\n");
    assertThat(new ObjectMapper().readTree(line).get("url").asText()).isEqualTo(nasty);
  }

  @Test
  void jsonWritesNullAndNonFiniteNumbersAsZapDoes() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("missing", null);
    v.put("nan", Double.NaN);
    v.put("inf", Double.POSITIVE_INFINITY);
    v.put("whole", 3.0);
    assertThat(JSON.logEntry("info", TIME, INSTANCE, v))
        .endsWith("\"inf\":\"+Inf\",\"missing\":null,\"nan\":\"NaN\",\"whole\":3}");
  }

  @Test
  void jsonWritesValuesOfUnknownTypesAsTheirText() {
    assertThat(JSON.logEntry("info", TIME, INSTANCE, Map.of("odd", new StringBuilder("sb"))))
        .endsWith("\"odd\":\"sb\"}");
  }

  @Test
  void textLogEntryHasLevelTimeInstanceThenKeyValuePairsSortedByKey() {
    assertThat(TEXT.logEntry("info", TIME, INSTANCE, everyType())).isEqualTo(
        "info\t2017-09-01T12:00:00.123Z\taccesslog.logentry.istio-system\tcached=true"
            + " headers=\"{:authority=reviews, x-user=jason}\" latency=25ms ratio=0.5 responseCode=200"
            + " sourceIp=10.0.0.1 startTime=2017-09-01T11:59:59.975Z url=/reviews/1");
  }

  @Test
  void textQuotesValuesThatWouldBeMisreadBare() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("empty", "");
    v.put("spaced", "a b");
    v.put("equals", "a=b");
    v.put("quoted", "say \"hi\"");
    v.put("newline", "a\nb");
    v.put("plain", "/a/b?c");
    assertThat(TEXT.logEntry("info", TIME, INSTANCE, v)).endsWith(
        "\tempty=\"\" equals=\"a=b\" newline=\"a\\nb\" plain=/a/b?c quoted=\"say \\\"hi\\\"\" spaced=\"a b\"");
  }

  @Test
  void noValueOrNameCanBreakALineInEitherFormat() {
    Map<String, Object> v = new LinkedHashMap<>();
    v.put("crlf", "a\r\n{\"level\":\"error\"}");
    v.put("nel", "a\u0085b");
    v.put("ls", "a\u2028b\u2029c");
    v.put("key\nforged", "x");
    v.put("map", Map.of("k\n", "v\u0085"));
    for (LineFormat f : new LineFormat[] {JSON, TEXT}) {
      String line = f.logEntry("info", TIME, "i\ninstance", v);
      assertThat(line).doesNotContain("\n", "\r", "\u0085", "\u2028", "\u2029");
      assertThat(f.metric("info", TIME, "i", "1\n2", v)).doesNotContain("\n", "\r", "\u0085", "\u2028");
    }
    assertThat(TEXT.logEntry("info", TIME, INSTANCE, Map.of("nel", "a\u0085b"))).endsWith("nel=\"a\\u0085b\"");
  }

  @Test
  void textMetricHasTheValueFirst() {
    assertThat(TEXT.metric("warn", TIME, "requestcount.metric.istio-system", 1.25, Map.of("code", 404L)))
        .isEqualTo("warn\t2017-09-01T12:00:00.123Z\trequestcount.metric.istio-system\tvalue=1.25 code=404");
  }

  @Test
  void textLineWithoutFieldsEndsAfterTheInstance() {
    assertThat(TEXT.logEntry("error", TIME, INSTANCE, Map.of()))
        .isEqualTo("error\t2017-09-01T12:00:00.123Z\taccesslog.logentry.istio-system");
    assertThat(JSON.logEntry("error", TIME, INSTANCE, Map.of())).endsWith("\"instance\":\"accesslog.logentry.istio-system\"}");
  }

  @Test
  void levelsAreNamedAsZapNamesThem() {
    assertThat(LineFormat.levelName(Params.Level.INFO)).isEqualTo("info");
    assertThat(LineFormat.levelName(Params.Level.WARNING)).isEqualTo("warn");
    assertThat(LineFormat.levelName(Params.Level.ERROR)).isEqualTo("error");
  }
}
