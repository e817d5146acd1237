package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.LogText;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import java.time.Clock;
import java.time.Duration;
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
 *
 * <p>What clients choose is bounded ({@link Limits}): a label value longer than {@code
 * max_label_value_length} is cut to it (counted in {@code prometheus_truncated_label_values_total}),
 * and a sample of a new series beyond {@code max_series_per_metric} is dropped (reason {@code
 * series_limit}); both are logged at WARN at most once a minute per metric.
 */
final class PrometheusHandler implements MetricHandler {

  /** Mixer's own metric counting what this adapter could not record. */
  static final String DROPPED_METRIC = "prometheus_dropped_instances";

  static final String NOT_A_NUMBER = "value_not_a_number";
  static final String NEGATIVE_INCREMENT = "negative_counter_increment";
  static final String MISSING_DIMENSION = "missing_dimension";
  static final String NO_METRIC = "no_metric";
  static final String FAILED = "error";
  static final String SERIES_LIMIT = "series_limit";

  /** Mixer's own metric counting label values cut to the limit. */
  static final String TRUNCATED_METRIC = "prometheus_truncated_label_values";

  /** Warnings a client can cause on every request are logged at most this often per metric. */
  static final Duration WARNING_PERIOD = Duration.ofMinutes(1);

  /**
   * Bounds on what clients can make this adapter hold.
   *
   * @param maxLabelValueLength characters a label value keeps; longer ones are cut, ending in
   *     {@link LabelValues#TRUNCATED}
   * @param maxSeriesPerMetric series one metric may hold; samples of new series beyond are dropped
   */
  record Limits(int maxLabelValueLength, int maxSeriesPerMetric) {
    static final int DEFAULT_MAX_LABEL_VALUE_LENGTH = 256;
    static final int DEFAULT_MAX_SERIES_PER_METRIC = 10_000;
    static final Limits DEFAULTS = new Limits(DEFAULT_MAX_LABEL_VALUE_LENGTH, DEFAULT_MAX_SERIES_PER_METRIC);

    Limits {
      if (maxLabelValueLength < 2 * LabelValues.TRUNCATED.length()) {
        throw new IllegalArgumentException("maxLabelValueLength: " + maxLabelValueLength + " (expected: >= "
            + 2 * LabelValues.TRUNCATED.length() + ")");
      }
      if (maxSeriesPerMetric < 1) {
        throw new IllegalArgumentException("maxSeriesPerMetric: " + maxSeriesPerMetric + " (expected: > 0)");
      }
    }
  }

  private static final ThreadLocal<LabelValues> PROBE = ThreadLocal.withInitial(LabelValues::probe);

  private final Map<String, Binding> bindings = new HashMap<>();
  private final SharedRegistry.Lease lease;
  private final Logger log;
  private final Counter droppedByReason;
  private final LongAdder dropped = new LongAdder();
  private final Set<String> warned = ConcurrentHashMap.newKeySet();
  private final Counter truncatedByInstance;
  private final Limits limits;
  private final Clock clock;
  /** When the next rate-limited warning of a metric and kind may be logged, in clock millis. */
  private final ConcurrentHashMap<String, Long> nextWarning = new ConcurrentHashMap<>();

  PrometheusHandler(List<PrometheusBuilder.Target> targets, SharedRegistry.Lease lease, Env env) {
    this(targets, lease, env, Limits.DEFAULTS);
  }

  PrometheusHandler(List<PrometheusBuilder.Target> targets, SharedRegistry.Lease lease, Env env, Limits limits) {
    this.lease = lease;
    this.log = env.logger();
    this.limits = limits;
    this.clock = env.clock();
    for (PrometheusBuilder.Target t : targets) {
      bindings.put(t.instance(), new Binding(lease.metric(t.definition().name()), t.dimensionKeys()));
    }
    this.truncatedByInstance = env.metrics().counter(TRUNCATED_METRIC,
        "Label values the prometheus adapter cut to max_label_value_length, by instance", "instance");
    this.droppedByReason = env.metrics().counter(DROPPED_METRIC,
        "Metric instances the prometheus adapter did not record, by instance and reason: value_not_a_number, "
            + "negative_counter_increment, missing_dimension, no_metric (no metrics entry), series_limit "
            + "(a new series beyond max_series_per_metric) or error",
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
    if (reason.equals(SERIES_LIMIT)) {
      Binding binding = bindings.get(instance.name());
      String metric = binding.metric.definition().name();
      if (warningDue(metric + '\n' + SERIES_LIMIT)) {
        log.warn("prometheus: metric {} holds {} series (max_series_per_metric {}); dropping samples of new series "
            + "from instance {}, counted in {}_total{reason=\"{}\"} (logged at most once a minute per metric)",
            metric, binding.metric.seriesCount(), limits.maxSeriesPerMetric(), instance.name(), DROPPED_METRIC,
            SERIES_LIMIT);
      }
      return;
    }
    if (warned.add(instance.name() + '\n' + reason)) {
      log.warn("prometheus: dropped instance {} ({}, value {}); further drops like it are logged at DEBUG and "
          + "counted in {}_total", instance.name(), reason, LogText.escape(GoValues.format(instance.value())),
          DROPPED_METRIC); // the value is the client's: escaped and bounded
    } else if (log.isDebugEnabled()) {
      log.debug("prometheus: dropped instance {} ({}, value {})", instance.name(), reason,
          LogText.escape(instance.value()));
    }
  }

  /** A label value was cut to the limit: counted, and logged at most once a minute per metric. */
  private void truncated(String instance, ExposedMetric metric, String key, int length) {
    truncatedByInstance.labelValues(instance).inc();
    String name = metric.definition().name();
    if (warningDue(name + "\ntruncated")) {
      // The value itself is not logged: it is long, and a client chose it.
      log.warn("prometheus: instance {} has a {} value of {} characters; metric {} keeps its first {} "
          + "(max_label_value_length), counted in {}_total (logged at most once a minute per metric)",
          instance, key, length, name, limits.maxLabelValueLength(), TRUNCATED_METRIC);
    }
  }

  /** True at most once per {@link #WARNING_PERIOD} for {@code key}. */
  private boolean warningDue(String key) {
    long now = clock.millis();
    Long next = nextWarning.get(key);
    if (next != null && now < next) {
      return false;
    }
    long due = now + WARNING_PERIOD.toMillis();
    return next == null ? nextWarning.putIfAbsent(key, due) == null : nextWarning.replace(key, next, due);
  }

  /** Where one instance's values go: its metric, and its dimension keys in label order. */
  private final class Binding {
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
      int maxLength = limits.maxLabelValueLength();
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
        if (v instanceof String text) {
          if (text.length() > maxLength) {
            truncated(instance.name(), metric, key, text.length());
            v = LabelValues.truncate(text, maxLength);
          }
        } else if (v instanceof Map<?, ?> || v instanceof byte[] bytes && bytes.length > 16) {
          // Keyed by their (bounded) text, so that the cache never holds a client's large value.
          String text = GoValues.format(v);
          if (text.length() > maxLength) {
            truncated(instance.name(), metric, key, text.length());
            text = LabelValues.truncate(text, maxLength);
          }
          v = text;
        }
        probe.add(v);
      }
      DoubleConsumer series = metric.series(probe, limits.maxSeriesPerMetric());
      probe.clear();
      if (series == null) {
        return SERIES_LIMIT;
      }
      series.accept(value);
      return null;
    }
  }
}
