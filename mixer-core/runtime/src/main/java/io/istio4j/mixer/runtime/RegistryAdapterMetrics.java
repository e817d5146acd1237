package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Gauge;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The SDK's {@link AdapterMetrics} on a Prometheus registry, get-or-create by name so rebuilt
 * handlers find the metrics their predecessors registered. Asking for one name with another kind or
 * other labels is an error.
 *
 * <p>Each series is resolved once and kept: a handler that keeps its {@link Counter.Child} adds to
 * the Prometheus data point directly, and one that calls {@code labelValues} per event pays one map
 * lookup, as with the Prometheus client itself.
 */
public final class RegistryAdapterMetrics implements AdapterMetrics {

  private final PrometheusRegistry registry;
  private final ConcurrentMap<String, Registered> metrics = new ConcurrentHashMap<>();

  /** Registers metrics on {@code registry}. */
  public RegistryAdapterMetrics(PrometheusRegistry registry) {
    this.registry = requireNonNull(registry, "registry");
  }

  @Override
  public Counter counter(String name, String help, String... labelNames) {
    return (Counter) get(name, "counter", labelNames, () -> new PrometheusCounter(
        labelNames.length, PrometheusSeries.counter(registry, name, help, labelNames)));
  }

  @Override
  public Gauge gauge(String name, String help, String... labelNames) {
    return (Gauge) get(name, "gauge", labelNames, () -> new PrometheusGauge(
        labelNames.length, PrometheusSeries.gauge(registry, name, help, labelNames)));
  }

  private Object get(String name, String kind, String[] labelNames, Supplier<Object> create) {
    requireNonNull(name, "name");
    requireNonNull(labelNames, "labelNames");
    String labels = String.join(",", labelNames);
    Registered r = metrics.computeIfAbsent(name, n -> new Registered(kind, labels, create.get()));
    if (!r.kind.equals(kind) || !r.labels.equals(labels)) {
      throw new IllegalArgumentException("metric '" + name + "' is already a " + r.kind + " with labels ["
          + r.labels + "]; asked for a " + kind + " with labels [" + labels + "]");
    }
    return r.metric;
  }

  private record Registered(String kind, String labels, Object metric) {}

  /** Series by label values, each made once from the Prometheus metric's data point. */
  private abstract static class Series<C> {
    private final int labelCount;
    private final ConcurrentMap<LabelValues, C> children = new ConcurrentHashMap<>();

    Series(int labelCount) {
      this.labelCount = labelCount;
    }

    final C child(String[] values) {
      requireNonNull(values, "labelValues");
      if (values.length != labelCount) {
        throw new IllegalArgumentException("labelValues: " + Arrays.toString(values) + " (expected: "
            + labelCount + " value(s), one per label name)");
      }
      C child = children.get(new LabelValues(values));
      if (child != null) {
        return child;
      }
      String[] copy = values.clone(); // the caller may reuse its array
      for (String v : copy) {
        requireNonNull(v, "label value");
      }
      return children.computeIfAbsent(new LabelValues(copy), k -> create(copy));
    }

    abstract C create(String[] values);
  }

  /** Label values as a map key, compared by content. */
  private record LabelValues(String[] values) {
    @Override
    public boolean equals(Object o) {
      return o instanceof LabelValues other && Arrays.equals(values, other.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }
  }

  private static final class PrometheusCounter extends Series<Counter.Child> implements Counter {
    private final Function<String[], CounterDataPoint> points;

    PrometheusCounter(int labelCount, Function<String[], CounterDataPoint> points) {
      super(labelCount);
      this.points = points;
    }

    @Override
    public Counter.Child labelValues(String... labelValues) {
      return child(labelValues);
    }

    @Override
    Counter.Child create(String[] values) {
      CounterDataPoint point = points.apply(values);
      return new Counter.Child() {
        @Override
        public void inc() {
          point.inc();
        }

        @Override
        public void inc(double amount) {
          point.inc(amount);
        }
      };
    }
  }

  private static final class PrometheusGauge extends Series<Gauge.Child> implements Gauge {
    private final Function<String[], GaugeDataPoint> points;

    PrometheusGauge(int labelCount, Function<String[], GaugeDataPoint> points) {
      super(labelCount);
      this.points = points;
    }

    @Override
    public Gauge.Child labelValues(String... labelValues) {
      return child(labelValues);
    }

    @Override
    Gauge.Child create(String[] values) {
      GaugeDataPoint point = points.apply(values);
      return new Gauge.Child() {
        @Override
        public void set(double value) {
          point.set(value);
        }

        @Override
        public void inc(double amount) {
          point.inc(amount);
        }
      };
    }
  }
}
