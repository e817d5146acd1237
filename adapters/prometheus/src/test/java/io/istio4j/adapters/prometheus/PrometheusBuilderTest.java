package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.prometheus.config.Params;
import io.istio4j.adapters.prometheus.config.Params.BucketsDefinition;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.istio4j.template.metric.MetricType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusBuilderTest {

  static final String INSTANCE = "requestcount.metric.istio-system";

  static MetricInfo.Builder counter(String name, String... labels) {
    return MetricInfo.newBuilder().setName(name).setInstanceName(INSTANCE).setKind(Kind.COUNTER)
        .addAllLabelNames(List.of(labels));
  }

  static MetricInfo.Builder distribution(String name, BucketsDefinition.Builder buckets) {
    MetricInfo.Builder m = MetricInfo.newBuilder().setName(name).setInstanceName(name + ".metric.istio-system")
        .setKind(Kind.DISTRIBUTION);
    return buckets == null ? m : m.setBuckets(buckets);
  }

  static PrometheusBuilder builder(MetricInfo.Builder... metrics) {
    Params.Builder p = PrometheusAdapter.DEFAULTS.toBuilder().setPort(0);
    for (MetricInfo.Builder m : metrics) {
      p.addMetrics(m);
    }
    PrometheusBuilder b = new PrometheusBuilder(new SharedRegistry());
    b.setAdapterConfig(p.build());
    return b;
  }

  static List<String> errors(PrometheusBuilder b) {
    return b.validate().errors().stream().map(ConfigErrors.ConfigError::toString).toList();
  }

  static MetricType type(ValueType value, String... dimensions) {
    Map<String, ValueType> dims = new LinkedHashMap<>();
    for (String d : dimensions) {
      dims.put(d, ValueType.STRING);
    }
    return new MetricType(value, dims, Map.of());
  }

  static List<Double> bounds(BucketsDefinition.Builder buckets) {
    PrometheusBuilder b = builder(distribution("d", buckets));
    assertThat(errors(b)).isEmpty();
    return b.targets().get(0).definition().bounds();
  }

  @Test
  void theStockRequestCountMetricIsValidAndExposedAsIstioRequestCount() {
    PrometheusBuilder b = builder(counter("request_count", "source_service", "source_version",
        "destination_service", "destination_version", "response_code"));
    assertThat(errors(b)).isEmpty();
    MetricDefinition d = b.targets().get(0).definition();
    assertThat(d.name()).isEqualTo("istio_request_count");
    assertThat(d.help()).isEqualTo("request_count");
    assertThat(d.kind()).isEqualTo(Kind.COUNTER);
    assertThat(d.bounds()).isEmpty();
  }

  @Test
  void theNameDefaultsToTheSanitizedInstanceNameAndHelpToTheDescription() {
    PrometheusBuilder b = builder(MetricInfo.newBuilder().setInstanceName(INSTANCE).setKind(Kind.GAUGE)
        .setDescription("Requests in flight").addLabelNames("source.service").addLabelNames("/x-y"));
    assertThat(errors(b)).isEmpty();
    MetricDefinition d = b.targets().get(0).definition();
    assertThat(d.name()).isEqualTo("istio_requestcount_metric_istiosystem");
    assertThat(d.help()).isEqualTo("Requests in flight");
    assertThat(d.labelNames()).containsExactly("source_service", "xy");
  }

  @Test
  void anUnspecifiedOrUnknownKindIsAnError() {
    assertThat(errors(builder(counter("a").setKind(Kind.UNSPECIFIED))))
        .containsExactly("metrics[0].kind: UNSPECIFIED (expected: COUNTER, GAUGE or DISTRIBUTION)");
    assertThat(errors(builder(counter("a").setKindValue(7))))
        .containsExactly("metrics[0].kind: 7 (expected: COUNTER, GAUGE or DISTRIBUTION)");
  }

  @Test
  void theInstanceNameIsRequiredAndUsedOnce() {
    assertThat(errors(builder(counter("a").setInstanceName(""))))
        .containsExactly("metrics[0].instance_name: empty (expected: the fully qualified name of a metric instance,"
            + " such as requestcount.metric.istio-system)");
    assertThat(errors(builder(counter("a"), counter("b"))))
        .containsExactly("metrics[1].instance_name: '" + INSTANCE + "' is already in metrics[0]"
            + " (expected: one entry per instance)");
  }

  @Test
  void aNameThatIsNotAPrometheusNameOnceSanitizedIsAnError() {
    assertThat(errors(builder(counter("größe"))))
        .containsExactly("metrics[0].name: 'größe' is exposed as 'istio_größe'"
            + " (expected: letters, digits, '_' and ':' once sanitized)");
  }

  @Test
  void labelNamesMustBeValidAndDistinctOnceSanitized() {
    assertThat(errors(builder(counter("a", "source.service", "9lives", "__reserved", "source_service", "a:b"))))
        .containsExactly(
            "metrics[0].label_names[1]: '9lives' is the label '9lives' (expected: letters, digits and '_',"
                + " not starting with a digit or '__', once sanitized)",
            "metrics[0].label_names[2]: '__reserved' is the label '__reserved' (expected: letters, digits and '_',"
                + " not starting with a digit or '__', once sanitized)",
            "metrics[0].label_names[3]: 'source_service' is listed twice (expected: distinct label names once sanitized)",
            "metrics[0].label_names[4]: 'a:b' is the label 'a:b' (expected: letters, digits and '_',"
                + " not starting with a digit or '__', once sanitized)");
    assertThat(errors(builder(distribution("d", null).addLabelNames("le"))))
        .containsExactly("metrics[0].label_names[0]: 'le' holds a histogram's bucket bounds (expected: another label name)");
  }

  @Test
  void onlyADistributionHasBuckets() {
    BucketsDefinition.Builder buckets = BucketsDefinition.newBuilder()
        .setExplicitBuckets(BucketsDefinition.Explicit.newBuilder().addBounds(1));
    assertThat(errors(builder(counter("a").setBuckets(buckets))))
        .containsExactly("metrics[0].buckets: set on a COUNTER (expected: buckets only on a DISTRIBUTION)");
  }

  @Test
  void linearBucketsAreUpstreamsLinearBucketsWithNumFiniteBucketsPlusOneBounds() {
    assertThat(bounds(BucketsDefinition.newBuilder().setLinearBuckets(
        BucketsDefinition.Linear.newBuilder().setNumFiniteBuckets(3).setWidth(2).setOffset(1))))
        .containsExactly(1.0, 3.0, 5.0, 7.0);
    // Go added the width repeatedly, so the bounds carry its rounding.
    assertThat(bounds(BucketsDefinition.newBuilder().setLinearBuckets(
        BucketsDefinition.Linear.newBuilder().setNumFiniteBuckets(3).setWidth(0.1))))
        .containsExactly(0.0, 0.1, 0.2, 0.30000000000000004);
  }

  @Test
  void exponentialBucketsAreUpstreamsExponentialBucketsWithNumFiniteBucketsPlusOneBounds() {
    assertThat(bounds(BucketsDefinition.newBuilder().setExponentialBuckets(
        BucketsDefinition.Exponential.newBuilder().setNumFiniteBuckets(8).setScale(1).setGrowthFactor(10))))
        .containsExactly(1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8);
  }

  @Test
  void explicitBucketsAreTheBoundsAndNoBucketsAreTheClientDefaults() {
    assertThat(bounds(BucketsDefinition.newBuilder().setExplicitBuckets(
        BucketsDefinition.Explicit.newBuilder().addBounds(0.005).addBounds(0.5).addBounds(10))))
        .containsExactly(0.005, 0.5, 10.0);
    assertThat(bounds(null)).containsExactly(.005, .01, .025, .05, .1, .25, .5, 1.0, 2.5, 5.0, 10.0);
    assertThat(bounds(BucketsDefinition.newBuilder())).isEqualTo(PrometheusBuilder.DEFAULT_BOUNDS);
  }

  @Test
  void bucketsMustBeSane() {
    assertThat(errors(builder(distribution("d", BucketsDefinition.newBuilder().setLinearBuckets(
        BucketsDefinition.Linear.newBuilder().setNumFiniteBuckets(0).setWidth(0))))))
        .containsExactly("metrics[0].buckets.linear_buckets.num_finite_buckets: 0 (expected: 1-1000)",
            "metrics[0].buckets.linear_buckets.width: 0.0 (expected: > 0)");
    assertThat(errors(builder(distribution("d", BucketsDefinition.newBuilder().setExponentialBuckets(
        BucketsDefinition.Exponential.newBuilder().setNumFiniteBuckets(1001).setGrowthFactor(1).setScale(-1))))))
        .containsExactly("metrics[0].buckets.exponential_buckets.num_finite_buckets: 1001 (expected: 1-1000)",
            "metrics[0].buckets.exponential_buckets.growth_factor: 1.0 (expected: > 1)",
            "metrics[0].buckets.exponential_buckets.scale: -1.0 (expected: > 0)");
    assertThat(errors(builder(distribution("d", BucketsDefinition.newBuilder().setExponentialBuckets(
        BucketsDefinition.Exponential.newBuilder().setNumFiniteBuckets(1000).setGrowthFactor(1e10).setScale(1))))))
        .containsExactly("metrics[0].buckets.exponential_buckets: bound 31 is Infinity"
            + " (expected: finite bounds; +Inf is always added)");
    assertThat(errors(builder(distribution("d", BucketsDefinition.newBuilder().setExplicitBuckets(
        BucketsDefinition.Explicit.newBuilder().addBounds(1).addBounds(1))))))
        .containsExactly("metrics[0].buckets.explicit_buckets.bounds: bound 1 (1.0) is not above bound 0 (1.0)"
            + " (expected: strictly increasing bounds)");
    assertThat(errors(builder(distribution("d", BucketsDefinition.newBuilder().setExplicitBuckets(
        BucketsDefinition.Explicit.newBuilder())))))
        .containsExactly("metrics[0].buckets.explicit_buckets.bounds: empty (expected: at least one bound)");
  }

  @Test
  void twoEntriesMayShareAMetricOnlyWithTheSameDefinition() {
    MetricInfo.Builder first = counter("requests", "source");
    MetricInfo.Builder same = counter("requests", "source").setInstanceName("other.metric.istio-system");
    PrometheusBuilder shared = builder(first, same);
    assertThat(errors(shared)).isEmpty();
    assertThat(shared.targets()).hasSize(2);

    MetricInfo.Builder different = counter("requests", "destination").setInstanceName("other.metric.istio-system");
    assertThat(errors(builder(first, different)))
        .containsExactly("metrics[1].name: 'istio_requests' is also metrics[0], with another kind, description,"
            + " labels or buckets (expected: one definition per name)");
  }

  @Test
  void thePortMustBeAPortOrZero() {
    PrometheusBuilder b = builder(counter("a"));
    b.setAdapterConfig(PrometheusAdapter.DEFAULTS.toBuilder().setPort(70000).build());
    assertThat(errors(b)).containsExactly("port: 70000 (expected: 0-65535, 0 for any free port)");
  }

  @Test
  void everyInstanceBoundToTheHandlerNeedsAnEntry() {
    PrometheusBuilder b = builder(counter("a", "source"));
    b.setMetricTypes(Map.of(INSTANCE, type(ValueType.INT64, "source"),
        "requestsize.metric.istio-system", type(ValueType.INT64)));
    assertThat(errors(b)).containsExactly("metrics: no entry for instance 'requestsize.metric.istio-system', which a"
        + " rule sends to this handler (expected: an entry with instance_name 'requestsize.metric.istio-system')");
  }

  @Test
  void labelsAreMatchedToDimensionsBySanitizedName() {
    PrometheusBuilder b = builder(counter("a", "source_service", "response.code"));
    b.setMetricTypes(Map.of(INSTANCE, type(ValueType.INT64, "source.service", "response_code")));
    assertThat(errors(b)).isEmpty();
    assertThat(b.targets().get(0).dimensionKeys()).containsExactly("source.service", "response_code");
  }

  @Test
  void labelsAndDimensionsMustBeTheSameSet() {
    PrometheusBuilder missing = builder(counter("a", "source", "version"));
    missing.setMetricTypes(Map.of(INSTANCE, type(ValueType.INT64, "source")));
    assertThat(errors(missing)).containsExactly("metrics[0].label_names[1]: 'version' is not a dimension of instance '"
        + INSTANCE + "' (expected: one of [source])");

    PrometheusBuilder extra = builder(counter("a", "source"));
    extra.setMetricTypes(Map.of(INSTANCE, type(ValueType.INT64, "source", "version", "code")));
    assertThat(errors(extra)).containsExactly("metrics[0].label_names: instance '" + INSTANCE + "' has dimensions"
        + " [code, version] that are not labels (expected: every dimension listed; the series of a metric share"
        + " one label set)");
  }

  @Test
  void aValueThatCanNeverBeANumberIsAnError() {
    PrometheusBuilder b = builder(counter("a"));
    b.setMetricTypes(Map.of(INSTANCE, type(ValueType.BOOL)));
    assertThat(errors(b)).containsExactly("metrics[0].instance_name: instance '" + INSTANCE
        + "' has a BOOL value (expected: INT64, DOUBLE, DURATION or a STRING holding a number)");
    for (ValueType ok : List.of(ValueType.INT64, ValueType.DOUBLE, ValueType.DURATION, ValueType.STRING)) {
      b.setMetricTypes(Map.of(INSTANCE, type(ok)));
      assertThat(errors(b)).as(ok.name()).isEmpty();
    }
  }
}
