package io.istio4j.mixer.benchmarks;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.ValueType;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.listentry.ListEntryType;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricType;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaInstance;
import io.istio4j.template.quota.QuotaType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The hot path of the in-memory adapters, called through their generated handler interfaces on
 * handlers built as Mixer builds them: prometheus (one metric instance with 5 labels, a counter and
 * a histogram), memquota (one uncontended rolling-window allocation), list (one string lookup in a
 * 1000-entry whitelist).
 *
 * <p>Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar AdapterBenchmark -prof gc}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class AdapterBenchmark {

  MetricHandler prometheus;
  List<MetricInstance> requestCount;
  List<MetricInstance> requestDuration;
  QuotaHandler memquota;
  QuotaInstance quota;
  QuotaArgs quotaArgs;
  ListEntryHandler list;
  ListEntryInstance listed;

  @Setup
  public void setUp() throws Exception {
    Map<String, Object> dims = new LinkedHashMap<>();
    dims.put("source_service", "reviews.default.svc.cluster.local");
    dims.put("source_version", "v2");
    dims.put("destination_service", "ratings.default.svc.cluster.local");
    dims.put("destination_version", "v1");
    dims.put("response_code", 200L);
    List<String> labels = new ArrayList<>(dims.keySet());
    Map<String, ValueType> dimTypes = Map.of("source_service", ValueType.STRING, "source_version", ValueType.STRING,
        "destination_service", ValueType.STRING, "destination_version", ValueType.STRING,
        "response_code", ValueType.INT64);
    prometheus = (MetricHandler) Adapters.build("prometheus", Map.of("port", 0, "metrics", List.of(
        Map.of("name", "request_count", "instance_name", "requestcount.metric.istio-system", "kind", "COUNTER",
            "label_names", labels),
        Map.of("name", "request_duration", "instance_name", "requestduration.metric.istio-system",
            "kind", "DISTRIBUTION", "label_names", labels,
            "buckets", Map.of("explicit_buckets", Map.of("bounds",
                List.of(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)))))),
        "metric", Map.of(
            "requestcount.metric.istio-system", new MetricType(ValueType.INT64, dimTypes, Map.of()),
            "requestduration.metric.istio-system", new MetricType(ValueType.DURATION, dimTypes, Map.of())));
    requestCount = List.of(new MetricInstance("requestcount.metric.istio-system", 1L, dims, "UNSPECIFIED", Map.of()));
    requestDuration = List.of(new MetricInstance("requestduration.metric.istio-system",
        Duration.ofMillis(12), dims, "UNSPECIFIED", Map.of()));

    memquota = (QuotaHandler) Adapters.build("memquota", Map.of("quotas", List.of(Map.of(
        "name", "requestcount.quota.istio-system", "maxAmount", Long.MAX_VALUE / 4, "validDuration", "1s"))),
        "quota", Map.of("requestcount.quota.istio-system", new QuotaType(Map.of())));
    quota = new QuotaInstance("requestcount.quota.istio-system",
        Map.of("source", "reviews.default.svc.cluster.local", "destination", "ratings.default.svc.cluster.local"));
    quotaArgs = new QuotaArgs("", 1, false);

    List<String> entries = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      entries.add("service" + i + ".default.svc.cluster.local");
    }
    list = (ListEntryHandler) Adapters.build("listchecker", Map.of("overrides", entries), "listentry",
        Map.of("source.listentry.istio-system", new ListEntryType()));
    listed = new ListEntryInstance("source.listentry.istio-system", "service517.default.svc.cluster.local");
    if (!list.handleListEntry(listed).status().isOk() || memquota.handleQuota(quota, quotaArgs).amount() != 1) {
      throw new IllegalStateException("benchmark handlers answer wrongly");
    }
  }

  @Benchmark
  public void prometheusCounterFiveLabels() {
    prometheus.handleMetric(requestCount);
  }

  @Benchmark
  public void prometheusHistogramFiveLabels() {
    prometheus.handleMetric(requestDuration);
  }

  @Benchmark
  public QuotaResult memquotaAllocation() {
    return memquota.handleQuota(quota, quotaArgs);
  }

  @Benchmark
  public CheckResult listStringLookup() {
    return list.handleListEntry(listed);
  }
}
