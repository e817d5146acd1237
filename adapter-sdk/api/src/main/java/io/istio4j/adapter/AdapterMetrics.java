package io.istio4j.adapter;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;

/**
 * Get-or-create access to metrics on Mixer's own {@code /metrics}. Handlers are rebuilt when
 * config changes, so asking twice for one name returns the same metric instead of failing.
 *
 * <pre>{@code
 * Counter dropped = env.metrics().counter("stdio_dropped_entries",
 *     "Log entries dropped because the write buffer was full", "handler");
 * dropped.labelValues(handlerName).inc();
 * }</pre>
 */
public interface AdapterMetrics {

  /** The counter named {@code name}; its exposed name gets {@code _total} appended. */
  Counter counter(String name, String help, String... labelNames);

  /** The gauge named {@code name}. */
  Gauge gauge(String name, String help, String... labelNames);
}
