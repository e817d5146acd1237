package io.istio4j.adapter;

/**
 * Get-or-create access to metrics on Mixer's own {@code /metrics}. Handlers are rebuilt when
 * config changes, so asking twice for one name returns the same metric instead of failing; asking
 * for one name with another kind or other label names is an {@link IllegalArgumentException}.
 *
 * <p>The types are the SDK's own ({@link Counter}, {@link Gauge}), not a metrics library's: Mixer
 * binds them to the Prometheus client it serves {@code /metrics} with, and the test kit's {@code
 * TestEnv} reads them back ({@code counterValue}, {@code gaugeValue}), so an adapter is not tied to
 * one client library's major version.
 *
 * <pre>{@code
 * // at build time: create the metric and resolve the series the handler will use
 * Counter dropped = env.metrics().counter("stdio_dropped_lines",
 *     "Log lines dropped, by output and reason", "output", "reason");
 * Counter.Child bufferFull = dropped.labelValues(outputName, "buffer_full");
 *
 * // on the request path: no lookup, no allocation
 * bufferFull.inc();
 * }</pre>
 *
 * <p>Name metrics after the adapter ({@code stdio_...}, {@code acme_...}): every adapter shares one
 * registry.
 */
public interface AdapterMetrics {

  /**
   * The counter named {@code name}; it is exposed as {@code name_total}.
   *
   * @param name a Prometheus metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}), unique across adapters
   * @param help one line saying what is counted
   * @param labelNames the names of the labels each series is told apart by, possibly none
   */
  Counter counter(String name, String help, String... labelNames);

  /**
   * The gauge named {@code name}.
   *
   * @param name a Prometheus metric name ({@code [a-zA-Z_:][a-zA-Z0-9_:]*}), unique across adapters
   * @param help one line saying what is measured
   * @param labelNames the names of the labels each series is told apart by, possibly none
   */
  Gauge gauge(String name, String help, String... labelNames);
}
