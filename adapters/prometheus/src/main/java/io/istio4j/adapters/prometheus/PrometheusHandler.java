package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import io.prometheus.metrics.core.metrics.Counter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleConsumer;
import org.slf4j.Logger;

/**
 * Records metric instances into the shared registry. A known series costs a map lookup for the
 * instance, one dimension lookup per label, a cache lookup with a per-thread probe and the add: no
 * allocation. An instance whose value is not a number (or a negative counter increment) is
 * dropped, counted in Mixer's {@code prometheus_dropped_instances_total} and logged once per
 * instance and reason at WARN (then at DEBUG); the handler never throws.
 */
final class PrometheusHandler implements MetricHandler {

  /** Mixer's own metric counting what this adapter could not record. */
  static final String DROPPED_METRIC = "prometheus_dropped_instances";

  static final String NOT_A_NUMBER = "value_not_a_number";
  static final String NEGATIVE_INCREMENT = "negative_counter_increment";
  static final String MISSING_DIMENSION = "missing_dimension";
  static final String NO_METRIC = "no_metric";
  static final String FAILED = "error";

  private static final ThreadLocal<LabelValues> PROBE = ThreadLocal.withInitial(LabelValues::probe);

  private final Map<String, Binding> bindings = new HashMap<>();
  private final SharedRegistry.Lease lease;
  private final Logger log;
  private final Counter droppedByReason;
  private final LongAdder dropped = new LongAdder();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();

  PrometheusHandler(List<PrometheusBuilder.Target> targets, SharedRegistry.Lease lease, Env env) {
    this.lease = lease;
    this.log = env.logger();
    for (PrometheusBuilder.Target t : targets) {
      bindings.put(t.instance(), new Binding(lease.metric(t.definition().name()), t.dimensionKeys()));
    }
    this.droppedByReason = env.metrics().counter(DROPPED_METRIC,
        "Metric instances the prometheus adapter did not record, by instance and reason: value_not_a_number, "
            + "negative_counter_increment, missing_dimension, no_metric (no metrics entry) or error",
        "instance", "reason");
  }

  @Override
  public void handleMetric(List<MetricInstance> instances) {
    LabelValues probe = PROBE.get();
    for (int i = 0, n = instances.size(); i < n; i++) {
      MetricInstance instance = instances.get(i);
      String problem;
      try {
        Binding binding = bindings.get(instance.name());
        problem = binding == null ? NO_METRIC : binding.record(instance, probe);
      } catch (RuntimeException e) {
        probe.clear();
        log.debug("prometheus: recording {} failed", instance.name(), e);
        problem = FAILED;
      }
      if (problem != null) {
        drop(instance, problem);
      }
    }
  }

  /** How many instances this handler dropped. */
  long dropped() {
    return dropped.sum();
  }

  @Override
  public void close() {
    lease.close();
  }

  private void drop(MetricInstance instance, String reason) {
    dropped.increment();
    droppedByReason.labelValues(instance.name(), reason).inc();
    if (warned.add(instance.name() + '\n' + reason)) {
      log.warn("prometheus: dropped instance {} ({}, value {}); further drops like it are logged at DEBUG and "
          + "counted in {}_total", instance.name(), reason, GoValues.format(instance.value()), DROPPED_METRIC);
    } else {
      log.debug("prometheus: dropped instance {} ({}, value {})", instance.name(), reason, instance.value());
    }
  }

  /** Where one instance's values go: its metric, and its dimension keys in label order. */
  private static final class Binding {
    private final ExposedMetric metric;
    private final String[] keys;
    private final boolean counter;

    Binding(ExposedMetric metric, List<String> keys) {
      this.metric = metric;
      this.keys = keys.toArray(new String[0]);
      this.counter = metric.definition().kind() == Kind.COUNTER;
    }

    /** Records the instance; returns why it could not, or null. */
    String record(MetricInstance instance, LabelValues probe) {
      double value = PromValue.of(instance.value());
      if (Double.isNaN(value)) {
        return NOT_A_NUMBER;
      }
      if (counter && value < 0) {
        return NEGATIVE_INCREMENT;
      }
      Map<String, Object> dimensions = instance.dimensions();
      probe.start(keys.length);
      for (String key : keys) {
        Object v = dimensions.get(key);
        if (v == null) {
          probe.clear();
          return MISSING_DIMENSION;
        }
        probe.add(v);
      }
      DoubleConsumer series = metric.series(probe);
      probe.clear();
      series.accept(value);
      return null;
    }
  }
}
