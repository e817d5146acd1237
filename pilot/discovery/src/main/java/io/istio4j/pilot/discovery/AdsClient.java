package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * A blocking ADS client that asks for resources the way a proxy does (clusters, then the endpoints
 * they name; listeners, then the routes they name), ACKing each response. For {@code pilot-discovery
 * dump} and for tests; one stream per instance.
 */
final class AdsClient implements AutoCloseable {

  static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  private final Node node;
  private final Duration timeout;
  private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<DiscoveryRequest> requests;

  AdsClient(ManagedChannel channel, Node node, Duration timeout) {
    this.node = requireNonNull(node, "node");
    this.timeout = requireNonNull(timeout, "timeout");
    this.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(
        new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse value) {
            inbox.add(value);
          }

          @Override
          public void onError(Throwable t) {
            inbox.add(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            inbox.add(Status.UNAVAILABLE.withDescription("the server ended the ADS stream"));
          }
        });
  }

  /** The node a sidecar with this id presents: {@code sidecar~10.1.1.1~productpage.default~default.svc.cluster.local}. */
  static Node node(String id, String cluster) {
    return Node.newBuilder().setId(id).setCluster(cluster).build();
  }

  /**
   * Asks for resources of a type ({@code names} empty: every resource, as Envoy asks for clusters and
   * listeners), waits for the answer and ACKs it.
   *
   * @throws AdsException when the stream fails or no answer arrives within the timeout
   */
  DiscoveryResponse fetch(String typeUrl, Collection<String> names) throws AdsException, InterruptedException {
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names).build());
    DiscoveryResponse r = next(typeUrl, names);
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names)
        .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
    return r;
  }

  /**
   * The next response of this type, ACKed: a push after a change.
   *
   * @throws AdsException when the stream fails or nothing arrives within {@code wait}
   */
  DiscoveryResponse awaitPush(String typeUrl, Collection<String> names, Duration wait)
      throws AdsException, InterruptedException {
    DiscoveryResponse r = next(typeUrl, names, wait);
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names)
        .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
    return r;
  }

  private DiscoveryResponse next(String typeUrl, Collection<String> names) throws AdsException, InterruptedException {
    return next(typeUrl, names, timeout);
  }

  private DiscoveryResponse next(String typeUrl, Collection<String> names, Duration wait)
      throws AdsException, InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      Object o = left <= 0 ? null : inbox.poll(left, TimeUnit.NANOSECONDS);
      if (o == null) {
        throw new AdsException("no " + shortName(typeUrl) + " response within " + wait
            + (names.isEmpty() ? "" : " for " + names) + " (node " + node.getId()
            + "): Pilot may not be ready (see /readyz), or a named resource does not exist");
      }
      if (o instanceof Status s) {
        throw new AdsException("ADS stream failed: " + s.getCode() + (s.getDescription() == null ? ""
            : " (" + s.getDescription() + ")") + (s.getCause() == null ? "" : ": " + s.getCause().getMessage()));
      }
      DiscoveryResponse r = (DiscoveryResponse) o;
      if (r.getTypeUrl().equals(typeUrl)) {
        return r;
      }
    }
  }

  /** The EDS names the clusters ask for ({@code eds_cluster_config.service_name}, else the cluster name). */
  static List<String> edsNames(DiscoveryResponse clusters) throws InvalidProtocolBufferException {
    Set<String> out = new LinkedHashSet<>();
    for (Any a : clusters.getResourcesList()) {
      Cluster c = a.unpack(Cluster.class);
      if (c.getType() == Cluster.DiscoveryType.EDS || c.hasEdsClusterConfig()) {
        String s = c.getEdsClusterConfig().getServiceName();
        out.add(s.isEmpty() ? c.getName() : s);
      }
    }
    return new ArrayList<>(out);
  }

  /** The RDS names the listeners' HTTP connection managers ask for (filter chains and api_listener). */
  static List<String> rdsNames(DiscoveryResponse listeners) throws InvalidProtocolBufferException {
    Set<String> out = new LinkedHashSet<>();
    for (Any a : listeners.getResourcesList()) {
      Listener l = a.unpack(Listener.class);
      if (l.hasApiListener()) {
        addRds(l.getApiListener().getApiListener(), out);
      }
      List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
      if (l.hasDefaultFilterChain()) {
        chains.add(l.getDefaultFilterChain());
      }
      for (FilterChain fc : chains) {
        for (Filter f : fc.getFiltersList()) {
          addRds(f.getTypedConfig(), out);
        }
      }
    }
    return new ArrayList<>(out);
  }

  private static void addRds(@Nullable Any config, Set<String> out) throws InvalidProtocolBufferException {
    if (config != null && config.is(HttpConnectionManager.class)) {
      HttpConnectionManager hcm = config.unpack(HttpConnectionManager.class);
      if (hcm.hasRds()) {
        out.add(hcm.getRds().getRouteConfigName());
      }
    }
  }

  static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case CLUSTER -> "cds";
      case ENDPOINT -> "eds";
      case LISTENER -> "lds";
      case ROUTE -> "rds";
      default -> typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    };
  }

  @Override
  public void close() {
    try {
      requests.onCompleted();
    } catch (RuntimeException e) {
      // the stream already failed: nothing to end
    }
  }

  /** The stream failed or a response did not arrive. */
  static final class AdsException extends Exception {
    private static final long serialVersionUID = 1L;

    AdsException(String message) {
      super(message);
    }
  }
}
