package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.prometheus.config.Params;

/**
 * The prometheus adapter: metric instances become Prometheus counters (add the value), gauges (set
 * it) and histograms (observe it), exposed as {@code istio_<name>} on {@code :42422/metrics} for a
 * Prometheus server to scrape. Every prometheus handler of the process shares one registry and one
 * server, as upstream's did.
 *
 * <pre>{@code
 * kind: prometheus
 * metadata: {name: handler, namespace: istio-system}
 * spec:
 *   metrics:
 *   - name: request_count
 *     instance_name: requestcount.metric.istio-system
 *     kind: COUNTER
 *     label_names: [destination_service, response_code]
 * }</pre>
 */
public final class PrometheusAdapter implements Adapter {

  /** Upstream's port. */
  static final int DEFAULT_PORT = 42422;

  static final Params DEFAULTS = Params.newBuilder().setPort(DEFAULT_PORT).build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("prometheus")
        .description("Publishes metric instances as Prometheus counters, gauges and histograms on :42422/metrics")
        .supportedTemplates("metric")
        .defaultConfig(DEFAULTS)
        .builderFactory(PrometheusBuilder::new)
        .build();
  }
}
