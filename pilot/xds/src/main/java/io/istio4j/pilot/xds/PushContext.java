package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStore;
import io.istio4j.pilot.model.Hostnames;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.TlsSecret;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * One consistent read of the registries and the config store, taken at the start of a push and
 * shared by the translation of every proxy in that push: services sorted by hostname, route rules
 * indexed by destination hostname in precedence order, destination policies, egress and ingress
 * rules.
 */
final class PushContext {
  final XdsOptions options;
  final ServiceDiscovery discovery;
  final EndpointIndex endpoints;
  final List<Service> services;
  final Map<String, Service> serviceByHost = new HashMap<>();
  final List<Config> policies;
  final List<Config> egressRules;
  final List<Config> ingressRules;
  /** The valid TLS secrets the ingress rules name, by {@code <name>.<namespace>}, read once per push. */
  final Map<String, TlsSecret> ingressSecrets = new HashMap<>();
  /** Why ingress rules are not served in this push (one line per rule and reason), filled by translation. */
  final Set<String> ingressProblems = ConcurrentHashMap.newKeySet();
  private final Map<String, List<Config>> rulesByDestination = new HashMap<>();
  /** Rules and policies with a source: the only config that makes two sidecars' outbound views differ. */
  final List<Config> sourceScoped = new ArrayList<>();
  /** Outbound views already built in this push, by {@link Translator}'s source key. */
  final Map<Object, Object> outbound = new HashMap<>();
  final MeshSecurity security;
  /** Bad {@code auth.istio.io/<port>} annotations found in this push, one message each. */
  final Set<String> mtlsErrors = new TreeSet<>();
  /** Shares unchanged resources with the previous push; null outside the server's pushes. */
  @Nullable Interner interner;

  PushContext(ServiceDiscovery discovery, ConfigStore store, XdsOptions options, EndpointIndex endpoints) {
    this(discovery, store, options, endpoints, MeshSecurity.disabled());
  }

  PushContext(ServiceDiscovery discovery, ConfigStore store, XdsOptions options, EndpointIndex endpoints,
      MeshSecurity security) {
    this.security = requireNonNull(security, "security");
    this.options = requireNonNull(options, "options");
    this.discovery = requireNonNull(discovery, "discovery");
    this.endpoints = requireNonNull(endpoints, "endpoints");
    List<Service> all = new ArrayList<>();
    for (Service s : discovery.services()) {
      // The aggregate registry may list a hostname twice; the first registry wins, as upstream.
      if (serviceByHost.putIfAbsent(s.hostname(), s) == null) {
        all.add(s);
      }
    }
    all.sort(Comparator.comparing(Service::hostname));
    if (security.enabled()) {
      for (Service s : all) {
        checkMtlsAnnotations(s);
        checkStrictAccounts(s);
      }
    }
    this.services = List.copyOf(all);
    List<Config> rules = list(store, ConfigKind.ROUTE_RULE);
    for (Config c : rules) {
      RouteRule r = c.spec(RouteRule.class);
      rulesByDestination.computeIfAbsent(host(c, r.getDestination()), h -> new ArrayList<>()).add(c);
    }
    // Higher precedence first; equal precedence by key, as upstream sorted them.
    Comparator<Config> order = Comparator.comparingInt((Config c) -> -c.spec(RouteRule.class).getPrecedence())
        .thenComparing(Config::key);
    for (List<Config> l : rulesByDestination.values()) {
      l.sort(order);
    }
    this.policies = list(store, ConfigKind.DESTINATION_POLICY);
    for (Config c : rules) {
      RouteRule r = c.spec(RouteRule.class);
      if (r.hasMatch() && r.getMatch().hasSource()) {
        sourceScoped.add(c);
      }
    }
    for (Config c : policies) {
      if (c.spec(DestinationPolicy.class).hasSource()) {
        sourceScoped.add(c);
      }
    }
    this.egressRules = list(store, ConfigKind.EGRESS_RULE);
    this.ingressRules = new ArrayList<>(list(store, ConfigKind.INGRESS_RULE));
    this.ingressRules.sort(Comparator.comparingInt((Config c) -> -c.spec(IngressRule.class).getPrecedence())
        .thenComparing(Config::key));
    for (Config c : ingressRules) {
      String ref = c.spec(IngressRule.class).getTlsSecret();
      if (!ref.isEmpty() && !ingressSecrets.containsKey(ref)) {
        store.tlsSecret(ref).ifPresent(s -> ingressSecrets.put(ref, s));
      }
    }
  }

  private static List<Config> list(ConfigStore store, ConfigKind kind) {
    if (!store.kinds().contains(kind)) {
      return List.of();
    }
    return store.list(kind, ConfigStore.NAMESPACE_ALL);
  }

  /** The hostname a reference in a config object names. */
  String host(Config c, IstioService ref) {
    return Hostnames.resolve(ref, c.meta().namespace(), options.domainSuffix());
  }

  /**
   * The route rules for a destination that apply to a proxy with these co-located instances:
   * rules without {@code match.source}, and rules whose source hostname is one of the instances'
   * and whose source labels are a subset of that instance's labels. Precedence order.
   */
  List<Config> routeRules(String destination, List<ServiceInstance> sources) {
    List<Config> all = rulesByDestination.get(destination);
    if (all == null) {
      return List.of();
    }
    List<Config> out = new ArrayList<>(all.size());
    for (Config c : all) {
      RouteRule r = c.spec(RouteRule.class);
      if (!r.hasMatch() || !r.getMatch().hasSource() || sourceMatches(c, r.getMatch().getSource(), sources)) {
        out.add(c);
      }
    }
    return out;
  }

  /** Every route rule naming this destination, whatever its source (the inbound side's view). */
  List<Config> allRouteRules(String destination) {
    return rulesByDestination.getOrDefault(destination, List.of());
  }

  /** True when a source-scoped rule or policy applies to a proxy with these instances. */
  boolean sourceMatches(Config c, List<ServiceInstance> sources) {
    IstioService source = c.meta().kind() == ConfigKind.ROUTE_RULE
        ? c.spec(RouteRule.class).getMatch().getSource() : c.spec(DestinationPolicy.class).getSource();
    return sourceMatches(c, source, sources);
  }

  boolean sourceMatches(Config c, IstioService source, List<ServiceInstance> sources) {
    String host = host(c, source);
    Labels labels = Labels.of(source.getLabelsMap());
    for (ServiceInstance i : sources) {
      if (i.service().hostname().equals(host) && labels.subsetOf(i.labels())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The destination policy for a cluster: the policy's destination hostname equals {@code host},
   * its destination labels equal {@code labels} exactly, its source (if any) matches one of the
   * proxy's instances; among several, the smallest key (the list is sorted by key).
   */
  Optional<DestinationPolicy> policy(String host, Labels labels, List<ServiceInstance> sources) {
    for (Config c : policies) {
      DestinationPolicy p = c.spec(DestinationPolicy.class);
      if (!host(c, p.getDestination()).equals(host)) {
        continue;
      }
      if (!Labels.of(p.getDestination().getLabelsMap()).equals(labels)) {
        continue;
      }
      if (p.hasSource() && !sourceMatches(c, p.getSource(), sources)) {
        continue;
      }
      return Optional.of(p);
    }
    return Optional.empty();
  }

  /**
   * The mutual TLS mode of a service port: its {@code auth.istio.io/<port>} annotation, else the
   * mesh's. A value that is not a mode is recorded in {@link #mtlsErrors} (naming the service, the
   * annotation and the value) and the mesh's mode applies.
   */
  MtlsMode mtlsMode(Service s, Port p) {
    if (!security.enabled()) {
      return MtlsMode.DISABLE;
    }
    String key = MeshSecurity.PORT_ANNOTATION_PREFIX + p.port();
    String value = s.annotations().get(key);
    if (value == null) {
      return security.meshMode();
    }
    return MtlsMode.parse(value).orElse(security.meshMode());
  }

  /** Records every {@code auth.istio.io/*} annotation that names no port of the service or no mode. */
  private void checkMtlsAnnotations(Service s) {
    for (Map.Entry<String, String> a : s.annotations().entrySet()) {
      String key = a.getKey();
      if (!key.startsWith(MeshSecurity.PORT_ANNOTATION_PREFIX)) {
        continue;
      }
      String port = key.substring(MeshSecurity.PORT_ANNOTATION_PREFIX.length());
      boolean isPort = false;
      for (Port p : s.ports()) {
        isPort |= String.valueOf(p.port()).equals(port);
      }
      if (!isPort) {
        mtlsErrors.add("service " + s.hostname() + ": annotation " + shown(key) + ": '" + shown(port)
            + "' is not a port number of the service (expected: one of its ports); ignored");
      } else if (MtlsMode.parse(a.getValue()).isEmpty()) {
        mtlsErrors.add("service " + s.hostname() + ": annotation " + key + ": '" + shown(a.getValue()) + "' (expected: "
            + MtlsMode.ACCEPTED + "); the mesh mode " + security.meshMode() + " applies");
      }
    }
  }

  /**
   * A STRICT port of a service whose instances run as no service account: no certificate can be
   * issued for them, so their servers cannot accept mutual TLS and every mesh client's call fails.
   * It stays STRICT (a security mode is never lowered behind the operator's back) and is reported.
   */
  private void checkStrictAccounts(Service s) {
    if (s.external()) {
      return;
    }
    for (Port p : s.ports()) {
      if (mtlsMode(s, p) == MtlsMode.STRICT && discovery.serviceAccounts(s.hostname(), Set.of(p.name())).isEmpty()
          && !discovery.instances(s.hostname(), Set.of(p.name()), LabelsCollection.ALL).isEmpty()) {
        mtlsErrors.add("service " + s.hostname() + ": port " + p.port() + " is STRICT but its instances run as no "
            + "service account, so no workload certificate can be issued and mutual TLS to it fails (expected: "
            + "instances with a service account, or annotation " + MeshSecurity.PORT_ANNOTATION_PREFIX + p.port()
            + ": PERMISSIVE or DISABLE)");
      }
    }
  }

  /** A value from an annotation as an error message shows it: at most 64 characters, printable. */
  private static String shown(String value) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < value.length() && b.length() < 64; i++) {
      char c = value.charAt(i);
      b.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    return value.length() > 64 ? b + "... (" + value.length() + " characters)" : b.toString();
  }

  /** Egress rules as (host, rule) pairs in key order. */
  List<EgressRule> egress() {
    List<EgressRule> out = new ArrayList<>(egressRules.size());
    for (Config c : egressRules) {
      out.add(c.spec(EgressRule.class));
    }
    return out;
  }
}
