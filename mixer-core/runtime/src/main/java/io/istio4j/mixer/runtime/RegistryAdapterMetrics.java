package io.istio4j.mixer.runtime;

import io.istio4j.adapter.AdapterMetrics;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * Adapter metrics on a Prometheus registry, get-or-create by name so rebuilt handlers find the
 * metrics their predecessors registered. Asking for one name with another kind or other labels
 * is an error.
 */
public final class RegistryAdapterMetrics implements AdapterMetrics {

  private final PrometheusRegistry registry;
  private final ConcurrentMap<String, Registered> metrics = new ConcurrentHashMap<>();

  /** Registers metrics on {@code registry}. */
  public RegistryAdapterMetrics(PrometheusRegistry registry) {
    this.registry = registry;
  }

  @Override
  public Counter counter(String name, String help, String... labelNames) {
    return (Counter) get(name, "counter", labelNames,
        () -> Counter.builder().name(name).help(help).labelNames(labelNames).register(registry));
  }

  @Override
  public Gauge gauge(String name, String help, String... labelNames) {
    return (Gauge) get(name, "gauge", labelNames,
        () -> Gauge.builder().name(name).help(help).labelNames(labelNames).register(registry));
  }

  private Object get(String name, String kind, String[] labels, java.util.function.Supplier<Object> create) {
    Registered r = metrics.computeIfAbsent(name, n -> new Registered(kind, String.join(",", labels), create.get()));
    if (!r.kind.equals(kind) || !r.labels.equals(String.join(",", labels))) {
      throw new IllegalArgumentException("metric '" + name + "' is already a " + r.kind + " with labels ["
          + r.labels + "]; asked for a " + kind + " with labels [" + String.join(",", labels) + "]");
    }
    return r.metric;
  }

  private record Registered(String kind, String labels, Object metric) {}
}
