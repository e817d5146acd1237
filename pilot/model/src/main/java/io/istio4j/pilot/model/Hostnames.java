package io.istio4j.pilot.model;

import io.istio4j.pilot.config.v1.IstioService;

/** Turns config's service references into hostnames, as Istio 0.2 did. */
public final class Hostnames {
  private Hostnames() {}

  /**
   * The FQDN an {@link IstioService} names: {@code service} when set, else {@code name} + "." +
   * ({@code namespace} or the config object's namespace) + ("." + {@code domain}, or ".svc." + the
   * mesh's domain suffix). {@code {name: reviews}} in namespace {@code default} with suffix
   * {@code cluster.local} is {@code reviews.default.svc.cluster.local}.
   */
  public static String resolve(IstioService svc, String configNamespace, String domainSuffix) {
    if (!svc.getService().isEmpty()) {
      return svc.getService();
    }
    String ns = svc.getNamespace().isEmpty() ? configNamespace : svc.getNamespace();
    StringBuilder b = new StringBuilder(svc.getName()).append('.').append(ns);
    if (!svc.getDomain().isEmpty()) {
      b.append('.').append(svc.getDomain());
    } else {
      b.append(".svc.").append(domainSuffix);
    }
    return b.toString();
  }
}
