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
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

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
  private final SnapshotResources<Secret> secrets;
  private final String[] versions;
  private final List<EdsChange> edsHistory;

  /**
   * One change of a group's endpoint version: the names of the assignments it changed, or null
   * when it may have changed any of them.
   */
  record EdsChange(String version, @Nullable Set<String> names) {}

  /** How many endpoint changes a snapshot remembers; a client older than that gets a response. */
  static final int EDS_HISTORY = 32;

  XdsSnapshot(SnapshotResources<Cluster> clusters, String clusterVersion,
      SnapshotResources<ClusterLoadAssignment> endpoints, String endpointVersion,
      SnapshotResources<Listener> listeners, String listenerVersion,
      SnapshotResources<RouteConfiguration> routes, String routeVersion, List<EdsChange> edsHistory) {
    this(clusters, clusterVersion, endpoints, endpointVersion, listeners, listenerVersion, routes, routeVersion, edsHistory,
        NO_SECRETS, "");
  }

  private static final SnapshotResources<Secret> NO_SECRETS = SnapshotResources.create(List.<VersionedResource<Secret>>of(), "");

  XdsSnapshot(SnapshotResources<Cluster> clusters, String clusterVersion,
      SnapshotResources<ClusterLoadAssignment> endpoints, String endpointVersion,
      SnapshotResources<Listener> listeners, String listenerVersion,
      SnapshotResources<RouteConfiguration> routes, String routeVersion, List<EdsChange> edsHistory,
      SnapshotResources<Secret> secrets, String secretVersion) {
    this.secrets = secrets;
    this.edsHistory = edsHistory;
    this.clusters = clusters;
    this.endpoints = endpoints;
    this.listeners = listeners;
    this.routes = routes;
    this.versions = new String[] {clusterVersion, endpointVersion, listenerVersion, routeVersion, secretVersion};
  }

  private SnapshotResources<?> of(Resources.ResourceType type) {
    return switch (type) {
      case CLUSTER -> clusters;
      case ENDPOINT -> endpoints;
      case LISTENER -> listeners;
      case ROUTE -> routes;
      case SECRET -> secrets;
    };
  }

  @Override
  public String version(Resources.ResourceType type, List<String> resourceNames) {
    return switch (type) {
      case CLUSTER -> versions[0];
      case ENDPOINT -> endpointVersion(resourceNames);
      case LISTENER -> versions[2];
      case ROUTE -> versions[3];
      case SECRET -> versions[4];
    };
  }

  /**
   * For a request naming endpoint sets, the version of the last change to one of them (newest
   * first in the history), so a client whose assignments did not change sees no new version and
   * gets no response: an endpoint change reaches only the clients subscribed to it. Without names,
   * or past the remembered history, the group's latest version.
   */
  private String endpointVersion(List<String> resourceNames) {
    if (resourceNames.isEmpty()) {
      return versions[1];
    }
    for (EdsChange c : edsHistory) {
      if (c.names() == null) {
        return c.version();
      }
      Set<String> changed = c.names();
      if (changed.size() <= 4) {
        // Typical: one service's few assignments; scanning the request's list a few times is cheapest.
        for (String n : changed) {
          if (resourceNames.contains(n)) {
            return c.version();
          }
        }
      } else {
        // Many changed at once: one pass over the request's names, each looked up in the set.
        for (String n : resourceNames) {
          if (changed.contains(n)) {
            return c.version();
          }
        }
      }
    }
    return versions[1];
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
