package io.istio4j.pilot.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Snapshot;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;
import java.util.Map;

/**
 * A snapshot assembled from per-type resource maps the server keeps between pushes: an endpoint
 * push rebuilds only the endpoint map, and resources carry versions made once per instance
 * ({@link Interner#versioned}) instead of the SHA-256 that java-control-plane's
 * {@code Snapshot.create} computes for every resource of every snapshot.
 */
final class XdsSnapshot extends Snapshot {
  private final SnapshotResources<Cluster> clusters;
  private final SnapshotResources<ClusterLoadAssignment> endpoints;
  private final SnapshotResources<Listener> listeners;
  private final SnapshotResources<RouteConfiguration> routes;
  private final String[] versions;

  XdsSnapshot(SnapshotResources<Cluster> clusters, String clusterVersion,
      SnapshotResources<ClusterLoadAssignment> endpoints, String endpointVersion,
      SnapshotResources<Listener> listeners, String listenerVersion,
      SnapshotResources<RouteConfiguration> routes, String routeVersion) {
    this.clusters = clusters;
    this.endpoints = endpoints;
    this.listeners = listeners;
    this.routes = routes;
    this.versions = new String[] {clusterVersion, endpointVersion, listenerVersion, routeVersion};
  }

  private SnapshotResources<?> of(Resources.ResourceType type) {
    return switch (type) {
      case CLUSTER -> clusters;
      case ENDPOINT -> endpoints;
      case LISTENER -> listeners;
      case ROUTE -> routes;
      default -> null;
    };
  }

  @Override
  public String version(Resources.ResourceType type, List<String> resourceNames) {
    return switch (type) {
      case CLUSTER -> versions[0];
      case ENDPOINT -> versions[1];
      case LISTENER -> versions[2];
      case ROUTE -> versions[3];
      default -> "";
    };
  }

  @Override
  public Map<String, ? extends Message> resources(Resources.ResourceType type) {
    SnapshotResources<?> r = of(type);
    return r == null ? Map.of() : r.resources();
  }

  @Override
  @SuppressWarnings({"unchecked", "rawtypes"})
  public Map<String, VersionedResource<? extends Message>> versionedResources(Resources.ResourceType type) {
    SnapshotResources<?> r = of(type);
    return r == null ? Map.of() : (Map) r.versionedResources();
  }
}
