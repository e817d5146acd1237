package io.istio4j.adapters.prometheus;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleConsumer;
import java.util.function.Function;

/**
 * One exposed metric: a Prometheus client 1.x counter, gauge or classic histogram, and a cache from
 * raw dimension values to the series' recording function, so that recording a known series costs a
 * hash lookup and an add.
 *
 * <p>The number of series is bounded by the caller's cap: a sample of a new series beyond it is
 * refused (the caller counts the drop), so label values a client chooses cannot grow the registry
 * without end. The cache of raw keys is bounded too (twice the cap: a {@code Long} 200 and a {@code
 * String} "200" are two keys for one series); a key beyond it is looked up by its rendered labels.
 */
final class ExposedMetric {

  /**
   * The client library's name for every metric. It is never exposed ({@link TextExposition} writes
   * {@link MetricDefinition#name()}), and a neutral one keeps the library from rejecting or
   * renaming configured names it reserves (names ending in _total, _bucket, _created or _info).
   */
  private static final String LIBRARY_NAME = "istio_adapter_metric";

  private final MetricDefinition definition;
  private final Collector collector;
  private final Function<String[], DoubleConsumer> newSeries;
  private final ConcurrentHashMap<LabelValues, DoubleConsumer> series = new ConcurrentHashMap<>();
  /** Every series, by its rendered label values; guarded by this for additions. */
  private final ConcurrentHashMap<List<String>, DoubleConsumer> byLabels = new ConcurrentHashMap<>();

  /** Handlers holding this metric; guarded by {@link SharedRegistry}. */
  int leases;

  ExposedMetric(MetricDefinition definition) {
    this.definition = definition;
    String[] labels = definition.labelNames().toArray(new String[0]);
    switch (definition.kind()) {
      case COUNTER -> {
        Counter c = Counter.builder().name(LIBRARY_NAME).labelNames(labels).withoutExemplars().build();
        collector = c;
        newSeries = values -> {
          CounterDataPoint p = c.labelValues(values);
          return p::inc;
        };
      }
      case GAUGE -> {
        Gauge g = Gauge.builder().name(LIBRARY_NAME).labelNames(labels).withoutExemplars().build();
        collector = g;
        newSeries = values -> {
          GaugeDataPoint p = g.labelValues(values);
          return p::set;
        };
      }
      case DISTRIBUTION -> {
        Histogram h = Histogram.builder().name(LIBRARY_NAME).labelNames(labels).withoutExemplars()
            .classicOnly()
            .classicUpperBounds(definition.bounds().stream().mapToDouble(Double::doubleValue).toArray())
            .build();
        collector = h;
        newSeries = values -> {
          DistributionDataPoint p = h.labelValues(values);
          return p::observe;
        };
      }
      default -> throw new IllegalArgumentException(
          "kind: " + definition.kind() + " (expected: COUNTER, GAUGE or DISTRIBUTION)");
    }
  }

  MetricDefinition definition() {
    return definition;
  }

  /**
   * The recording function of the series {@code probe} names: adds to a counter, sets a gauge,
   * observes into a histogram. Allocates only the first time a raw key is seen.
   */
  DoubleConsumer series(LabelValues probe) {
    return series(probe, Integer.MAX_VALUE);
  }

  /** As {@link #series(LabelValues)}, refusing a new series when the metric holds {@code maxSeries}. */
  DoubleConsumer series(LabelValues probe, int maxSeries) {
    DoubleConsumer s = series.get(probe);
    return s != null ? s : newKey(probe, maxSeries);
  }

  private DoubleConsumer newKey(LabelValues probe, int maxSeries) {
    List<String> labels = List.of(probe.render());
    DoubleConsumer s = byLabels.get(labels);
    if (s == null) {
      if (byLabels.size() >= maxSeries) {
        return null; // checked without the lock first: a flood of new series is refused cheaply
      }
      synchronized (this) {
        s = byLabels.get(labels);
        if (s == null) {
          if (byLabels.size() >= maxSeries) {
            return null;
          }
          s = newSeries.apply(labels.toArray(new String[0]));
          byLabels.put(labels, s);
        }
      }
    }
    if (series.size() < 2L * maxSeries) {
      DoubleConsumer raced = series.putIfAbsent(probe.copy(), s);
      return raced != null ? raced : s;
    }
    return s;
  }

  /** How many distinct raw value combinations are cached (two may share one series). */
  int cachedKeys() {
    return series.size();
  }

  /** How many series the metric holds. */
  int seriesCount() {
    return byLabels.size();
  }

  /** The current values, from the client library. */
  MetricSnapshot collect() {
    return collector.collect();
  }
}
