package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Mesh-wide settings of the xDS translation and push pipeline.
 *
 * @param domainSuffix the mesh's DNS suffix, e.g. {@code cluster.local}
 * @param proxyListenPort the port of the sidecar's virtual (original-destination) listener, 15001
 * @param connectTimeout the upstream connect timeout of every cluster
 * @param debounce how long config and service changes are collected before a full push
 * @param edsDebounce how long endpoint-only changes are collected before an endpoint push
 * @param validateResources check every generated resource against Envoy's proto constraints before
 *     it is served (a resource that fails is dropped and logged)
 */
public record XdsOptions(
    String domainSuffix,
    int proxyListenPort,
    Duration connectTimeout,
    Duration debounce,
    Duration edsDebounce,
    boolean validateResources) {

  public XdsOptions {
    requireNonNull(domainSuffix, "domainSuffix");
    requireNonNull(connectTimeout, "connectTimeout");
    requireNonNull(debounce, "debounce");
    requireNonNull(edsDebounce, "edsDebounce");
    if (proxyListenPort < 1 || proxyListenPort > 65535) {
      throw new IllegalArgumentException("proxyListenPort: " + proxyListenPort + " (expected: 1-65535)");
    }
    if (connectTimeout.isNegative() || connectTimeout.isZero()) {
      throw new IllegalArgumentException("connectTimeout: " + connectTimeout + " (expected: > 0)");
    }
    if (debounce.isNegative() || edsDebounce.isNegative()) {
      throw new IllegalArgumentException("debounce: " + debounce + ", edsDebounce: " + edsDebounce + " (expected: >= 0)");
    }
  }

  /** Defaults: suffix {@code cluster.local}, port 15001, 1 s connect timeout, 100 ms / 5 ms debounce. */
  public static XdsOptions defaults() {
    return new XdsOptions("cluster.local", 15001, Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(5), true);
  }

  /** These options with another domain suffix. */
  public XdsOptions withDomainSuffix(String suffix) {
    return new XdsOptions(suffix, proxyListenPort, connectTimeout, debounce, edsDebounce, validateResources);
  }

  /** These options with other debounce periods. */
  public XdsOptions withDebounce(Duration full, Duration eds) {
    return new XdsOptions(domainSuffix, proxyListenPort, connectTimeout, full, eds, validateResources);
  }
}
