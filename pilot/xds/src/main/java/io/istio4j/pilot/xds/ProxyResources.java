package io.istio4j.pilot.xds;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;
import java.util.Optional;

/**
 * Everything one proxy (or one group of identical proxies) is served: clusters, the endpoint sets
 * their EDS names refer to, listeners and route configurations, each sorted by name.
 */
public record ProxyResources(
    List<Cluster> clusters,
    List<ClusterLoadAssignment> endpoints,
    List<Listener> listeners,
    List<RouteConfiguration> routes) {
  public ProxyResources {
    clusters = List.copyOf(clusters);
    endpoints = List.copyOf(endpoints);
    listeners = List.copyOf(listeners);
    routes = List.copyOf(routes);
  }

  /** The cluster with this name, if any. */
  public Optional<Cluster> cluster(String name) {
    return clusters.stream().filter(c -> c.getName().equals(name)).findFirst();
  }

  /** The listener with this name, if any. */
  public Optional<Listener> listener(String name) {
    return listeners.stream().filter(c -> c.getName().equals(name)).findFirst();
  }

  /** The route configuration with this name, if any. */
  public Optional<RouteConfiguration> route(String name) {
    return routes.stream().filter(c -> c.getName().equals(name)).findFirst();
  }

  /** The endpoint set with this name, if any. */
  public Optional<ClusterLoadAssignment> endpoint(String name) {
    return endpoints.stream().filter(c -> c.getClusterName().equals(name)).findFirst();
  }
}
