package io.istio4j.adapters.stackdriver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapters.stackdriver.config.Params;
import io.istio4j.adapters.stackdriver.config.Params.LogInfo;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo.BucketsDefinition;
import io.istio4j.template.logentry.LogEntryType;
import io.istio4j.template.metric.MetricType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every config problem names its field and says what was expected. */
class StackdriverBuilderTest {

  @TempDir
  Path dir;

  static String errors(Params params) {
    return errors(params, null, null);
  }

  static String errors(Params params, Map<String, MetricType> metrics, Map<String, LogEntryType> logs) {
    StackdriverBuilder b = new StackdriverBuilder(name -> null);
    if (metrics != null) {
      b.setMetricTypes(metrics);
    }
    if (logs != null) {
      b.setLogEntryTypes(logs);
    }
    b.setAdapterConfig(params);
    ConfigErrors e = b.validate();
    return e.toString();
  }

  static Params.Builder valid() {
    return Params.newBuilder().setProjectId("p");
  }

  @Test
  void aMinimalConfigIsValid() {
    assertThat(errors(valid().build())).isEmpty();
  }

  @Test
  void scalarFieldsAreNamed() {
    String e = errors(Params.newBuilder().setEndpoint("monitoring.googleapis.com")
        .setPushInterval(Durations.fromSeconds(1)).setTimeout(Durations.fromMillis(1))
        .setBatchSize(5000).setMaxSeries(-1).setMaxAttempts(11).setApiKey("").build());
    assertThat(e).contains("project_id: empty (expected: the Google Cloud project to write to)")
        .contains("endpoint: 'monitoring.googleapis.com' (expected: host:port")
        .contains("push_interval: 1s (expected: 5s to 3600s)")
        .contains("timeout: 0.001s (expected: 0.100s to 300s)")
        .contains("batch_size: 5000 (expected: 1-1000, or 0 for 500)")
        .contains("max_series: -1 (expected: 1-1000000, or 0 for 10000)")
        .contains("max_attempts: 11")
        .contains("api_key: empty");
  }

  @Test
  void credentialsFilesThatAreMissingOrGarbageAreRefused() throws Exception {
    assertThat(errors(valid().setServiceAccountPath(dir.resolve("missing.json").toString()).build()))
        .startsWith("service_account_path: '" + dir.resolve("missing.json") + "' is not a readable service account key");
    Path garbage = Files.writeString(dir.resolve("garbage.json"), "{not json");
    assertThat(errors(valid().setServiceAccountPath(garbage.toString()).build()))
        .startsWith("service_account_path: '" + garbage + "' is not a readable service account key");
  }

  @Test
  void metricInfoFieldsAreNamedByInstance() {
    String e = errors(valid()
        .putMetricInfo("a.metric.ns", MetricInfo.newBuilder().setValue(ValueType.INT64).build())
        .putMetricInfo("b.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.DELTA).setValue(ValueType.MONEY)
            .build())
        .putMetricInfo("c.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.DELTA)
            .setValue(ValueType.DISTRIBUTION).build())
        .putMetricInfo("d.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.DELTA)
            .setValue(ValueType.DISTRIBUTION).setBuckets(BucketsDefinition.newBuilder().setExplicitBuckets(
                BucketsDefinition.Explicit.newBuilder().addBounds(1).addBounds(1))).build())
        .putMetricInfo("e.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.CUMULATIVE)
            .setValue(ValueType.STRING).build())
        .putMetricInfo("f.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.DELTA)
            .setValue(ValueType.DISTRIBUTION).setBuckets(BucketsDefinition.newBuilder().setExponentialBuckets(
                BucketsDefinition.Exponential.newBuilder().setNumFiniteBuckets(8).setGrowthFactor(1).setScale(1)))
            .build())
        .build());
    assertThat(e).contains("metric_info[a.metric.ns].kind: METRIC_KIND_UNSPECIFIED (expected: GAUGE (1), DELTA (2)"
            + " or CUMULATIVE (3))")
        .contains("metric_info[b.metric.ns].value: MONEY (expected: BOOL (1), INT64 (2)")
        .contains("metric_info[c.metric.ns].buckets: missing")
        .contains("metric_info[d.metric.ns].buckets.explicit_buckets.bounds: bound 1 (1.0) (expected: finite,"
            + " strictly increasing bounds)")
        .contains("metric_info[e.metric.ns].value: STRING with kind CUMULATIVE (expected: BOOL and STRING only as"
            + " GAUGE)")
        .contains("metric_info[f.metric.ns].buckets.exponential_buckets.growth_factor: 1.0 (expected: > 1)");
  }

  @Test
  void instancesBoundWithoutAnEntryAndBadDimensionsAreRefused() {
    Map<String, io.istio4j.adapter.ValueType> dims = Map.of("bad-label", io.istio4j.adapter.ValueType.STRING);
    String e = errors(valid()
            .putMetricInfo("a.metric.ns", MetricInfo.newBuilder().setKind(MetricKind.GAUGE)
                .setValue(ValueType.INT64).build())
            .putLogInfo("l.logentry.ns", LogInfo.newBuilder().addLabelNames("nope")
                .setPayloadTemplate("{{if .x}}y{{end}}")
                .setHttpMapping(LogInfo.HttpRequestMapping.newBuilder().setStatus("code2")).build())
            .build(),
        Map.of("a.metric.ns", new MetricType(io.istio4j.adapter.ValueType.BOOL, dims, Map.of()),
            "b.metric.ns", new MetricType(io.istio4j.adapter.ValueType.INT64, Map.of(), Map.of())),
        Map.of("l.logentry.ns", new LogEntryType(Map.of("code", io.istio4j.adapter.ValueType.INT64), Map.of())));
    assertThat(e).contains("metric_info[a.metric.ns]: dimension 'bad-label' of instance 'a.metric.ns' is not a valid"
            + " label key")
        .contains("metric_info[a.metric.ns].value: INT64, but instance 'a.metric.ns' has a BOOL value")
        .contains("metric_info: no entry for metric instance 'b.metric.ns'")
        .contains("log_info[l.logentry.ns].label_names[0]: 'nope' is not a variable of instance 'l.logentry.ns'"
            + " (expected: one of [code])")
        .contains("log_info[l.logentry.ns].payload_template: unsupported function or keyword 'if'")
        .contains("log_info[l.logentry.ns].http_mapping.status: 'code2' is not a variable");
  }
}
