package io.istio4j.adapters.prometheus;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleConsumer;
import java.util.function.Function;

/**
 * One exposed metric: a Prometheus client 1.x counter, gauge or classic histogram, and a cache from
 * raw dimension values to the series' recording function, so that recording a known series costs a
 * hash lookup and an add.
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
   * observes into a histogram. Allocates only the first time a series is seen.
   */
  DoubleConsumer series(LabelValues probe) {
    DoubleConsumer s = series.get(probe);
    return s != null ? s : series.computeIfAbsent(probe.copy(), key -> newSeries.apply(key.render()));
  }

  /** How many distinct raw value combinations are cached (two may share one series). */
  int cachedKeys() {
    return series.size();
  }

  /** The current values, from the client library. */
  MetricSnapshot collect() {
    return collector.collect();
  }
}
