package io.istio4j.mixer.runtime;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.GaugeDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.function.Function;

/**
 * Registers Prometheus metrics for {@link RegistryAdapterMetrics}; kept apart because the SDK's
 * metric types have the same simple names as the client library's.
 */
final class PrometheusSeries {

  private PrometheusSeries() {}

  /** Registers a counter and answers its data point for given label values. */
  static Function<String[], CounterDataPoint> counter(
      PrometheusRegistry registry, String name, String help, String[] labelNames) {
    return Counter.builder().name(name).help(help).labelNames(labelNames).register(registry)::labelValues;
  }

  /** Registers a gauge and answers its data point for given label values. */
  static Function<String[], GaugeDataPoint> gauge(
      PrometheusRegistry registry, String name, String help, String[] labelNames) {
    return Gauge.builder().name(name).help(help).labelNames(labelNames).register(registry)::labelValues;
  }
}
