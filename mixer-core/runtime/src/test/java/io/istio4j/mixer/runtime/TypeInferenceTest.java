package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Message;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.InstanceConfigException;
import io.istio4j.adapter.template.Template;
import io.istio4j.template.apikey.ApiKeyParam;
import io.istio4j.template.apikey.ApiKeyType;
import io.istio4j.template.logentry.LogEntryParam;
import io.istio4j.template.logentry.LogEntryType;
import io.istio4j.template.metric.MetricParam;
import io.istio4j.template.metric.MetricType;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which instance configs type-check, and what they infer; rejections carry upstream's texts. */
class TypeInferenceTest {

  private static final Templates TEMPLATES = Templates.load(TypeInferenceTest.class.getClassLoader());

  static Stream<Arguments> accepted() {
    return Stream.of(
        Arguments.of("metric value takes an INT64 expression's type",
            "metric", new MetricParam("request.size", Map.of(), "\"UNSPECIFIED\"", Map.of()).toMessage(),
            new MetricType(ValueType.INT64, Map.of(), Map.of())),
        Arguments.of("metric value may be a constant of any type",
            "metric", new MetricParam("1", Map.of(), "\"x\"", Map.of()).toMessage(),
            new MetricType(ValueType.INT64, Map.of(), Map.of())),
        Arguments.of("a ValueType field may be a BOOL comparison",
            "metric", new MetricParam("response.code == 200", Map.of(), "\"x\"", Map.of()).toMessage(),
            new MetricType(ValueType.BOOL, Map.of(), Map.of())),
        Arguments.of("ValueType map entries are inferred one by one",
            "metric", new MetricParam("response.duration",
                Map.of("ip", "source.ip", "t", "request.time", "headers", "request.headers",
                    "ratio", "request.ratio"), "\"x\"",
                Map.of("hit", "check.cache_hit")).toMessage(),
            new MetricType(ValueType.DURATION,
                Map.of("ip", ValueType.IP_ADDRESS, "t", ValueType.TIMESTAMP, "headers", ValueType.STRING_MAP,
                    "ratio", ValueType.DOUBLE),
                Map.of("hit", ValueType.BOOL))),
        Arguments.of("a Timestamp field accepts a TIMESTAMP expression",
            "logentry", new LogEntryParam(Map.of(), "request.time | response.time", "\"Info\"", "\"g\"", Map.of())
                .toMessage(),
            new LogEntryType(Map.of(), Map.of())),
        Arguments.of("a string field accepts a default chain of strings",
            "apikey", new ApiKeyParam("destination.service | \"\"", "\"v1\"", "\"op\"", "request.api_key",
                "request.time").toMessage(),
            new ApiKeyType()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("accepted")
  void accepts(String why, String template, Message param, Object type) throws Exception {
    Template t = TEMPLATES.get(template).orElseThrow();
    assertThat(t.compile("i." + template + ".ns", param, Manifests.FIELDS).type()).isEqualTo(type);
  }

  static Stream<Arguments> rejected() {
    return Stream.of(
        Arguments.of("an empty ValueType field",
            new MetricParam("", Map.of(), "\"x\"", Map.of()),
            "value", "expression for field 'value' cannot be empty"),
        Arguments.of("an empty string field",
            new MetricParam("1", Map.of(), "", Map.of()),
            "monitored_resource_type", "expression for field 'monitored_resource_type' cannot be empty"),
        Arguments.of("a string field holding the empty string literal",
            new MetricParam("1", Map.of(), "\"\"", Map.of()),
            "monitored_resource_type", "expression for field 'monitored_resource_type' cannot be empty"),
        Arguments.of("a string field with an INT64 expression",
            new MetricParam("1", Map.of(), "response.code", Map.of()),
            "monitored_resource_type", "error type checking for field 'monitored_resource_type': "
                + "Evaluated expression type INT64 want STRING"),
        Arguments.of("an unknown attribute",
            new MetricParam("request.sise", Map.of(), "\"x\"", Map.of()),
            "value", "failed to evaluate expression for field 'value': unknown attribute request.sise"),
        Arguments.of("an expression that does not parse",
            new MetricParam("a = 2", Map.of(), "\"x\"", Map.of()),
            "value", "failed to evaluate expression for field 'value': unable to parse expression 'a = 2': "
                + "1:3: expected '==', found '='"),
        Arguments.of("a bad map entry names its key",
            new MetricParam("1", Map.of("code", "response.code | \"200\""), "\"x\"", Map.of()),
            "dimensions[code]", "failed to evaluate expression for field 'dimensions[code]': "),
        Arguments.of("an empty map entry",
            new MetricParam("1", Map.of("code", ""), "\"x\"", Map.of()),
            "dimensions[code]", "expression for field 'dimensions[code]' cannot be empty"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejected")
  void rejects(String why, MetricParam param, String field, String message) {
    Template metric = TEMPLATES.get("metric").orElseThrow();
    assertThatThrownBy(() -> metric.compile("m.metric.ns", param.toMessage(), Manifests.FIELDS))
        .isInstanceOfSatisfying(InstanceConfigException.class, e -> {
          assertThat(e.field()).isEqualTo(field);
          assertThat(e.getMessage()).startsWith(message);
        });
  }

  @Test
  void aTimestampFieldRejectsAStringExpression() {
    Template logentry = TEMPLATES.get("logentry").orElseThrow();
    LogEntryParam param = new LogEntryParam(Map.of(), "source.service", "\"Info\"", "\"g\"", Map.of());
    assertThatThrownBy(() -> logentry.compile("l.logentry.ns", param.toMessage(), Manifests.FIELDS))
        .hasMessage("error type checking for field 'timestamp': Evaluated expression type STRING want TIMESTAMP");
  }
}
