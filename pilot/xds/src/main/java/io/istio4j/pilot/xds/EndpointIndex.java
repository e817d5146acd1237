package io.istio4j.pilot.xds;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The endpoint sets (EDS ClusterLoadAssignments) of the mesh, keyed by service key
 * ({@code hostname|portName|labels}), built on demand from the registry and kept until the
 * service's instances change. Every proxy that routes to a subset shares the same assignment, so
 * an endpoint change is rebuilt once, not once per client. Used by the push thread only.
 */
final class EndpointIndex {
  private final Map<String, ClusterLoadAssignment> byKey = new HashMap<>();
  private final Map<String, Set<String>> keysByHost = new HashMap<>();
  private final Map<String, Spec> specs = new HashMap<>();

  /** What a key was built from, to rebuild it after its instances change. */
  private record Spec(String hostname, String portName, Labels labels) {}

  /** The assignment for a service port and label subset, computed if absent. */
  ClusterLoadAssignment get(ServiceDiscovery discovery, Service service, Port port, Labels labels) {
    String key = service.key(port, labels.isEmpty() ? LabelsCollection.ALL : LabelsCollection.of(labels));
    ClusterLoadAssignment cla = byKey.get(key);
    if (cla == null) {
      cla = build(key, discovery.instances(service.hostname(), Set.of(port.name()),
          labels.isEmpty() ? LabelsCollection.ALL : LabelsCollection.of(labels)));
      byKey.put(key, cla);
      specs.put(key, new Spec(service.hostname(), port.name(), labels));
      keysByHost.computeIfAbsent(service.hostname(), h -> new HashSet<>()).add(key);
    }
    return cla;
  }

  /** The cached assignment under a key, or null. */
  ClusterLoadAssignment cached(String key) {
    return byKey.get(key);
  }

  /** Forgets the assignments of a hostname (they are rebuilt on next use); returns their keys. */
  Set<String> invalidate(String hostname) {
    Set<String> keys = keysByHost.get(hostname);
    if (keys == null) {
      return Set.of();
    }
    for (String k : keys) {
      byKey.remove(k);
    }
    return Set.copyOf(keys);
  }

  /**
   * The assignment under a key, rebuilt from the registry if it was invalidated; empty when the
   * service or its port is gone (a full push follows such a change and drops the cluster).
   */
  ClusterLoadAssignment refresh(ServiceDiscovery discovery, String key, PushContext ctx) {
    ClusterLoadAssignment cla = byKey.get(key);
    if (cla != null) {
      return cla;
    }
    Spec spec = specs.get(key);
    Service service = spec == null ? null : ctx.serviceByHost.get(spec.hostname());
    Port port = service == null ? null : service.port(spec.portName()).orElse(null);
    if (service == null || port == null) {
      return ClusterLoadAssignment.newBuilder().setClusterName(key).build();
    }
    return get(discovery, service, port, spec.labels());
  }

  /** Forgets everything. */
  void clear() {
    byKey.clear();
    keysByHost.clear();
    specs.clear();
  }

  int size() {
    return byKey.size();
  }

  /**
   * One locality per availability zone ({@code region/zone}); its weight is its endpoint count, so
   * always at least 1 (gRPC ignores localities without a weight).
   */
  static ClusterLoadAssignment build(String key, List<ServiceInstance> instances) {
    TreeMap<String, List<ServiceInstance>> byZone = new TreeMap<>();
    for (ServiceInstance i : instances) {
      byZone.computeIfAbsent(i.availabilityZone() == null ? "" : i.availabilityZone(), z -> new ArrayList<>()).add(i);
    }
    ClusterLoadAssignment.Builder cla = ClusterLoadAssignment.newBuilder().setClusterName(key);
    for (Map.Entry<String, List<ServiceInstance>> e : byZone.entrySet()) {
      List<ServiceInstance> list = e.getValue();
      list.sort(Comparator.comparing((ServiceInstance i) -> i.endpoint().address()).thenComparingInt(i -> i.endpoint().port()));
      LocalityLbEndpoints.Builder loc = LocalityLbEndpoints.newBuilder()
          .setLocality(locality(e.getKey()))
          .setLoadBalancingWeight(UInt32Value.of(list.size()))
          .setPriority(0);
      for (ServiceInstance i : list) {
        loc.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(
            Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                .setAddress(i.endpoint().address()).setPortValue(i.endpoint().port())))));
      }
      cla.addEndpoints(loc);
    }
    return cla.build();
  }

  private static Locality locality(String az) {
    if (az.isEmpty()) {
      return Locality.getDefaultInstance();
    }
    int slash = az.indexOf('/');
    return slash < 0
        ? Locality.newBuilder().setZone(az).build()
        : Locality.newBuilder().setRegion(az.substring(0, slash)).setZone(az.substring(slash + 1)).build();
  }
}
