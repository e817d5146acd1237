package io.istio4j.pilot.model;

import com.google.protobuf.Message;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.RouteRule;
import java.util.Locale;
import java.util.Optional;

/**
 * The kinds of Pilot config. RouteRule, DestinationPolicy and EgressRule are stored by operators
 * (Kubernetes CRDs in group {@code config.istio.io}); IngressRule is internal, made from Ingress
 * objects.
 */
public enum ConfigKind {
  ROUTE_RULE("route-rule", "route-rules", "RouteRule", RouteRule.getDefaultInstance()),
  DESTINATION_POLICY(
      "destination-policy", "destination-policies", "DestinationPolicy", DestinationPolicy.getDefaultInstance()),
  EGRESS_RULE("egress-rule", "egress-rules", "EgressRule", EgressRule.getDefaultInstance()),
  INGRESS_RULE("ingress-rule", "ingress-rules", "IngressRule", IngressRule.getDefaultInstance());

  /** The Kubernetes API group of the stored kinds. */
  public static final String GROUP = "config.istio.io";

  private final String type;
  private final String plural;
  private final String kubernetesKind;
  private final Message defaultInstance;

  ConfigKind(String type, String plural, String kubernetesKind, Message defaultInstance) {
    this.type = type;
    this.plural = plural;
    this.kubernetesKind = kubernetesKind;
    this.defaultInstance = defaultInstance;
  }

  /** Upstream's type name, e.g. {@code route-rule}. */
  public String type() {
    return type;
  }

  /** Upstream's plural, e.g. {@code route-rules}. */
  public String plural() {
    return plural;
  }

  /** The Kubernetes kind, e.g. {@code RouteRule}. */
  public String kubernetesKind() {
    return kubernetesKind;
  }

  /** The CRD's resource plural, e.g. {@code routerules}. */
  public String crdPlural() {
    return crdPluralOf(kubernetesKind);
  }

  private static String crdPluralOf(String kind) {
    String lower = kind.toLowerCase(Locale.ROOT);
    return lower.endsWith("y") ? lower.substring(0, lower.length() - 1) + "ies" : lower + "s";
  }

  /** The spec message's default instance (its descriptor and a builder source). */
  public Message defaultInstance() {
    return defaultInstance;
  }

  /** True for the kinds operators store (not IngressRule). */
  public boolean stored() {
    return this != INGRESS_RULE;
  }

  /** The kind with this Kubernetes kind name. */
  public static Optional<ConfigKind> byKubernetesKind(String kind) {
    for (ConfigKind k : values()) {
      if (k.kubernetesKind.equals(kind)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** The kind with this upstream type name. */
  public static Optional<ConfigKind> byType(String type) {
    for (ConfigKind k : values()) {
      if (k.type.equals(type)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }
}
