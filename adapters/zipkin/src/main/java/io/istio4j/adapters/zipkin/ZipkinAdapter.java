package io.istio4j.adapters.zipkin;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.zipkin.config.Params;

/**
 * The zipkin adapter: each tracespan instance (a span a proxy recorded, built from attributes)
 * becomes a Zipkin span, queued on Mixer's own trace reporter, the one {@code mixs server
 * --zipkinURL} configures; so spans of Envoy's requests and Mixer's own spans arrive in the same
 * Zipkin. Without {@code --zipkinURL} the handler reports an error on the config status page and
 * drops the spans (counted).
 *
 * <pre>{@code
 * kind: zipkin
 * metadata: {name: handler, namespace: istio-system}
 * spec: {serviceName: istio-proxy, serviceNameTag: source.service}
 * }</pre>
 */
public final class ZipkinAdapter implements Adapter {

  static final String DEFAULT_SERVICE_NAME = "istio-proxy";

  static final Params DEFAULTS = Params.newBuilder().setServiceName(DEFAULT_SERVICE_NAME).build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("zipkin")
        .description("Sends tracespan instances to Zipkin with Mixer's trace reporter")
        .supportedTemplates("tracespan")
        .defaultConfig(DEFAULTS)
        .builderFactory(ZipkinBuilder::new)
        .build();
  }
}
