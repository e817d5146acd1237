package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.LoadBalancing;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A raw ADS client (the control-plane api's generated stub) speaking to the server as Envoy would. */
class AdsProtocolIT {
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  MockMesh mesh;
  XdsServer xds;
  Server server;
  ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml");
    xds = new XdsServer(mesh.registry, mesh.store, XdsOptions.defaults().withDebounce(Duration.ofMillis(10), Duration.ofMillis(1)));
    mesh.registry.addListener(xds::onRegistryEvent);
    mesh.store.addListener(xds::onConfigEvent);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(xds.adsService()).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    xds.close();
  }

  /** One ADS stream with its responses queued. */
  final class Stream {
    final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    final AtomicReference<Throwable> error = new AtomicReference<>();
    final StreamObserver<DiscoveryRequest> requests;
    final String nodeId;
    boolean first = true;

    Stream(String nodeId) {
      this.nodeId = nodeId;
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryResponse value) {
          responses.add(value);
        }

        @Override
        public void onError(Throwable t) {
          error.set(t);
        }

        @Override
        public void onCompleted() {}
      });
    }

    void request(String type, List<String> names, String version, String nonce, Status error) {
      DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names)
          .setVersionInfo(version).setResponseNonce(nonce);
      if (first) {
        // Like Envoy and grpc-java: the node goes in the first request only.
        b.setNode(Node.newBuilder().setId(nodeId).setCluster("test"));
        first = false;
      }
      if (error != null) {
        b.setErrorDetail(error);
      }
      requests.onNext(b.build());
    }

    void request(String type, List<String> names) {
      request(type, names, "", "", null);
    }

    void ack(DiscoveryResponse r, List<String> names) {
      request(r.getTypeUrl(), names, r.getVersionInfo(), r.getNonce(), null);
    }

    DiscoveryResponse next() throws InterruptedException {
      DiscoveryResponse r = responses.poll(30, TimeUnit.SECONDS);
      assertThat(r).as("a response (stream error: %s)", error.get()).isNotNull();
      return r;
    }
  }

  static <T extends Message> List<T> unpack(DiscoveryResponse r, Class<T> type) {
    List<T> out = new ArrayList<>();
    for (var any : r.getResourcesList()) {
      try {
        out.add(any.unpack(type));
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return out;
  }

  @Test
  void servesNothingBeforeSyncThenClustersBeforeRoutesAndKeepsAckNackBookkeeping() throws Exception {
    Stream s = new Stream(MockMesh.SIDECAR_V0);
    s.request(CDS, List.of());
    // Registries and config have not synced: the watch stays open.
    assertThat(s.responses.poll(300, TimeUnit.MILLISECONDS)).isNull();
    assertThat(xds.ready()).isFalse();
    xds.markSynced();
    DiscoveryResponse cds = s.next();
    assertThat(cds.getTypeUrl()).isEqualTo(CDS);
    assertThat(xds.ready()).isTrue();
    List<Cluster> clusters = unpack(cds, Cluster.class);
    assertThat(clusters).extracting(Cluster::getName).contains(UpstreamRulesTranslationTest.W80V0, UpstreamRulesTranslationTest.W80V1);
    s.ack(cds, List.of());
    Set<String> eds = new TreeSet<>();
    clusters.stream().filter(c -> c.getType() == Cluster.DiscoveryType.EDS).forEach(c -> eds.add(c.getEdsClusterConfig().getServiceName()));
    s.request(EDS, List.copyOf(eds));
    DiscoveryResponse cla = s.next();
    assertThat(cla.getTypeUrl()).isEqualTo(EDS);
    assertThat(cla.getResourcesCount()).isEqualTo(eds.size());
    s.ack(cla, List.copyOf(eds));
    s.request(LDS, List.of());
    DiscoveryResponse lds = s.next();
    s.ack(lds, List.of());
    Set<String> rds = new TreeSet<>();
    for (Listener l : unpack(lds, Listener.class)) {
      for (var fc : l.getFilterChainsList()) {
        for (var f : fc.getFiltersList()) {
          if (f.getTypedConfig().is(HttpConnectionManager.class)) {
            HttpConnectionManager h = f.getTypedConfig().unpack(HttpConnectionManager.class);
            if (h.hasRds()) {
              rds.add(h.getRds().getRouteConfigName());
            }
          }
        }
      }
    }
    assertThat(rds).contains("80", "81");
    s.request(RDS, List.copyOf(rds));
    DiscoveryResponse routes = s.next();
    assertThat(routes.getTypeUrl()).isEqualTo(RDS);
    s.ack(routes, List.copyOf(rds));
    awaitAcked(RDS, routes.getVersionInfo());
    ClientStatus st = status();
    assertThat(st.proxyType()).isEqualTo("sidecar");
    assertThat(st.types().get("Cluster").ackedVersion()).isEqualTo(cds.getVersionInfo());
    assertThat(st.types().get("ClusterLoadAssignment").ackedNonce()).isEqualTo(cla.getNonce());
    assertThat(st.types().get("Listener").ackedVersion()).isEqualTo(lds.getVersionInfo());

    // A rule that routes to a new subset: its cluster comes (CDS) before the route naming it (RDS).
    mesh.store.create(new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "hello-v1", "default"), RouteRule.newBuilder()
        .setDestination(IstioService.newBuilder().setName("hello"))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v1")).build()));
    String helloV1 = "outbound|80|version=v1|" + MockMesh.HELLO;
    List<String> order = new ArrayList<>();
    boolean routed = false;
    while (!routed) {
      DiscoveryResponse r = s.next();
      order.add(r.getTypeUrl());
      if (r.getTypeUrl().equals(CDS)) {
        assertThat(unpack(r, Cluster.class)).extracting(Cluster::getName).contains(helloV1);
        s.ack(r, List.of());
      } else if (r.getTypeUrl().equals(RDS)) {
        boolean names = unpack(r, RouteConfiguration.class).stream().anyMatch(rc -> rc.toString().contains(helloV1));
        assertThat(order).as("CDS before the RDS that names the new cluster").contains(CDS);
        routed = names;
        if (names) {
          // Reject it: counted, logged, and not sent again until something changes.
          s.request(RDS, List.copyOf(rds), routes.getVersionInfo(), r.getNonce(),
              Status.newBuilder().setCode(3).setMessage("test: route rejected").build());
        } else {
          s.ack(r, List.copyOf(rds));
        }
      } else {
        s.ack(r, r.getTypeUrl().equals(EDS) ? List.copyOf(eds) : List.of());
      }
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (xds.stats().nacksByType().getOrDefault("RouteConfiguration", 0L) == 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(xds.stats().nacksByType()).containsEntry("RouteConfiguration", 1L);
    ClientStatus after = status();
    assertThat(after.lastNack().reason()).isEqualTo("test: route rejected");
    assertThat(after.lastNack().type()).isEqualTo("RouteConfiguration");
    assertThat(after.types().get("RouteConfiguration").ackedVersion()).isEqualTo(routes.getVersionInfo());
    DiscoveryResponse resent = s.responses.poll(300, TimeUnit.MILLISECONDS);
    assertThat(resent == null || !resent.getTypeUrl().equals(RDS)).as("the rejected routes are not resent").isTrue();
    assertThat(xds.clientsJson()).contains(MockMesh.SIDECAR_V0).contains("test: route rejected");
  }

  @Test
  void refusesMalformedNodeIdsAndKeepsServingOthers() throws Exception {
    xds.markSynced();
    Stream bad = new Stream("sidecar~10.0.0.1~only-three");
    bad.request(CDS, List.of());
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (bad.error.get() == null && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(bad.error.get()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).contains("expected 4 parts");
    });
    Stream good = new Stream("proxyless-client");
    good.request(LDS, List.of(MockMesh.WORLD + ":80"));
    DiscoveryResponse lds = good.next();
    assertThat(unpack(lds, Listener.class)).singleElement().satisfies(l -> assertThat(l.hasApiListener()).isTrue());
  }

  @Test
  void aClientThatNeverAcksGetsOneResponsePerTypeWhateverChanges() throws Exception {
    xds.markSynced();
    Stream stalled = new Stream(MockMesh.SIDECAR_V1);
    stalled.request(CDS, List.of());
    assertThat(stalled.next().getTypeUrl()).isEqualTo(CDS);
    for (int i = 0; i < 5; i++) {
      // Each edit adds a subset cluster: new CDS content every time.
      mesh.store.create(new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "r" + i, "default"), RouteRule.newBuilder()
          .setDestination(IstioService.newBuilder().setName("hello")).setPrecedence(i)
          .addRoute(DestinationWeight.newBuilder().putLabels("version", "v" + i)).build()));
    }
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (xds.stats().fullPushes() < 2 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    // Nothing is queued for it: state of the world sends the next CDS only after an ACK.
    assertThat(stalled.responses.poll(300, TimeUnit.MILLISECONDS)).isNull();
    // Once it asks again it gets the current clusters (and later ones after each ACK).
    stalled.request(CDS, List.of(), "x", "0", null);
    DiscoveryResponse r = stalled.next();
    String v4 = "outbound|80|version=v4|" + MockMesh.HELLO;
    while (unpack(r, Cluster.class).stream().noneMatch(c -> c.getName().equals(v4))) {
      stalled.ack(r, List.of());
      r = stalled.next();
    }
  }

  @Test
  void aDisconnectedSidecarsSnapshotIsDropped() throws Exception {
    xds.markSynced();
    Stream s = new Stream(MockMesh.SIDECAR_V0);
    s.request(CDS, List.of());
    s.next();
    assertThat(xds.hasSnapshot(MockMesh.SIDECAR_V0)).isTrue();
    s.requests.onCompleted();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (xds.hasSnapshot(MockMesh.SIDECAR_V0) && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertThat(xds.hasSnapshot(MockMesh.SIDECAR_V0)).isFalse();
    assertThat(xds.clients()).isEmpty();
  }

  @Test
  void aHugeListOfUnknownNamesIsAnsweredWithWhatExists() throws Exception {
    xds.markSynced();
    Stream s = new Stream("greedy-client");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      names.add("no-such-service-" + i + ".default.svc.cluster.local:80");
    }
    names.add(MockMesh.HELLO + ":80");
    s.request(LDS, names);
    assertThat(unpack(s.next(), Listener.class)).extracting(Listener::getName).containsExactly(MockMesh.HELLO + ":80");
  }

  @Test
  void anEndpointChangeSendsOnlyTheChangedAssignmentsAndOnlyToClientsSubscribedToThem() throws Exception {
    xds.markSynced();
    Stream all = new Stream(MockMesh.SIDECAR_V0);
    List<String> allNames = subscribeEds(all, name -> true);
    Stream helloOnly = new Stream(MockMesh.SIDECAR_V1);
    List<String> helloNames = subscribeEds(helloOnly, name -> name.startsWith(MockMesh.HELLO + "|"));
    List<String> worldNames = allNames.stream().filter(n -> n.startsWith(MockMesh.WORLD + "|")).toList();
    assertThat(worldNames).isNotEmpty();
    assertThat(helloNames).isNotEmpty();

    // Every endpoint of world moves: one assignment per world cluster changes, nothing else.
    mesh.registry.setInstances(MockMesh.WORLD, movedInstances(MockMesh.WORLD, "10.2.7."));
    DiscoveryResponse changed = all.next();
    assertThat(changed.getTypeUrl()).isEqualTo(EDS);
    List<ClusterLoadAssignment> sent = unpack(changed, ClusterLoadAssignment.class);
    assertThat(sent).extracting(ClusterLoadAssignment::getClusterName).containsExactlyInAnyOrderElementsOf(worldNames);
    assertThat(sent).allMatch(c -> c.toString().contains("10.2.7."));
    all.ack(changed, allNames);
    assertThat(all.responses.poll(300, TimeUnit.MILLISECONDS)).as("no other type is re-sent for an endpoint change").isNull();
    assertThat(helloOnly.responses.poll(100, TimeUnit.MILLISECONDS)).as("a client not subscribed to world gets nothing").isNull();

    // A change to hello reaches both, each with only the hello assignments.
    mesh.registry.setInstances(MockMesh.HELLO, movedInstances(MockMesh.HELLO, "10.1.7."));
    DiscoveryResponse toAll = all.next();
    assertThat(unpack(toAll, ClusterLoadAssignment.class)).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactlyInAnyOrderElementsOf(allNames.stream().filter(n -> n.startsWith(MockMesh.HELLO + "|")).toList());
    DiscoveryResponse toHello = helloOnly.next();
    assertThat(unpack(toHello, ClusterLoadAssignment.class)).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactlyInAnyOrderElementsOf(helloNames);
    assertThat(toHello.getVersionInfo()).isNotEmpty();
  }

  @Test
  void aClientStartingATypeOverOnTheSameStreamIsAnsweredInFull() throws Exception {
    xds.markSynced();
    Stream s = new Stream(MockMesh.SIDECAR_V0);
    List<String> eds = subscribeEds(s, name -> true);
    s.request(RDS, List.of("80", "81"));
    DiscoveryResponse routes = s.next();
    assertThat(routes.getTypeUrl()).isEqualTo(RDS);
    s.ack(routes, List.of("80", "81"));
    awaitAcked(RDS, routes.getVersionInfo());

    // No version, no nonce, on the same stream (a client resetting its state): answered, in full,
    // although nothing changed and the cache had answered these names before.
    s.request(RDS, List.of("80", "81"));
    DiscoveryResponse again = s.next();
    assertThat(again.getTypeUrl()).isEqualTo(RDS);
    assertThat(unpack(again, RouteConfiguration.class)).extracting(RouteConfiguration::getName).containsExactlyInAnyOrder("80", "81");
    s.ack(again, List.of("80", "81"));
    s.request(EDS, eds);
    DiscoveryResponse cla = s.next();
    assertThat(cla.getTypeUrl()).isEqualTo(EDS);
    assertThat(unpack(cla, ClusterLoadAssignment.class)).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactlyInAnyOrderElementsOf(eds);
  }

  @Test
  void afterAnEndpointNackTheNextChangeSendsEverySubscribedAssignment() throws Exception {
    xds.markSynced();
    Stream s = new Stream(MockMesh.SIDECAR_V0);
    List<String> names = subscribeEds(s, name -> true);
    mesh.registry.setInstances(MockMesh.WORLD, movedInstances(MockMesh.WORLD, "10.2.7."));
    DiscoveryResponse changed = s.next();
    assertThat(changed.getTypeUrl()).isEqualTo(EDS);
    assertThat(changed.getResourcesCount()).isLessThan(names.size());
    s.request(EDS, names, "", changed.getNonce(), Status.newBuilder().setCode(3).setMessage("test: endpoints rejected").build());
    assertThat(s.responses.poll(300, TimeUnit.MILLISECONDS)).as("the rejected assignments are not resent at once").isNull();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (xds.stats().nacksByType().getOrDefault("ClusterLoadAssignment", 0L) == 0 && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(xds.stats().nacksByType()).containsEntry("ClusterLoadAssignment", 1L);
    assertThat(status().lastNack().reason()).isEqualTo("test: endpoints rejected");

    // The client may hold anything older: the next change carries every assignment it subscribes to.
    mesh.registry.setInstances(MockMesh.HELLO, movedInstances(MockMesh.HELLO, "10.1.7."));
    DiscoveryResponse all = s.next();
    assertThat(all.getTypeUrl()).isEqualTo(EDS);
    assertThat(unpack(all, ClusterLoadAssignment.class)).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactlyInAnyOrderElementsOf(names);
  }

  @Test
  void aChangedClusterIsFollowedByItsEndpoints() throws Exception {
    xds.markSynced();
    Stream s = new Stream(MockMesh.SIDECAR_V0);
    s.request(CDS, List.of());
    DiscoveryResponse cds = s.next();
    s.ack(cds, List.of());
    Map<String, Cluster> before = new HashMap<>();
    unpack(cds, Cluster.class).forEach(c -> before.put(c.getName(), c));
    List<String> names = before.values().stream().filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
        .map(c -> c.getEdsClusterConfig().getServiceName()).sorted().toList();
    s.request(EDS, names);
    DiscoveryResponse first = s.next();
    s.ack(first, names);
    awaitAcked(s.nodeId, EDS, first.getVersionInfo());

    // A load-balancing policy for world: its clusters change, their endpoints do not.
    mesh.store.create(new Config(ConfigMeta.of(ConfigKind.DESTINATION_POLICY, "world-lb", "default"),
        DestinationPolicy.newBuilder().setDestination(IstioService.newBuilder().setName("world"))
            .setLoadBalancing(LoadBalancing.newBuilder().setName(LoadBalancing.SimpleLBPolicy.LEAST_CONN)).build()));
    DiscoveryResponse newCds = s.next();
    assertThat(newCds.getTypeUrl()).isEqualTo(CDS);
    Set<String> changedServiceNames = new TreeSet<>();
    for (Cluster c : unpack(newCds, Cluster.class)) {
      if (c.getType() == Cluster.DiscoveryType.EDS && !c.equals(before.get(c.getName()))) {
        changedServiceNames.add(c.getEdsClusterConfig().getServiceName());
      }
    }
    assertThat(changedServiceNames).isNotEmpty().allMatch(n -> n.startsWith(MockMesh.WORLD));
    s.ack(newCds, List.of());
    // Envoy warms a changed cluster anew and waits for its endpoints: they follow, unchanged as they are.
    DiscoveryResponse eds = s.next();
    assertThat(eds.getTypeUrl()).isEqualTo(EDS);
    assertThat(unpack(eds, ClusterLoadAssignment.class)).extracting(ClusterLoadAssignment::getClusterName)
        .containsExactlyInAnyOrderElementsOf(changedServiceNames);
  }

  /** Requests CDS (ACKed) and then EDS for the cluster names the filter accepts; returns those names, once answered and ACKed. */
  private List<String> subscribeEds(Stream s, Predicate<String> filter) throws InterruptedException {
    s.request(CDS, List.of());
    DiscoveryResponse cds = s.next();
    assertThat(cds.getTypeUrl()).isEqualTo(CDS);
    s.ack(cds, List.of());
    Set<String> eds = new TreeSet<>();
    unpack(cds, Cluster.class).stream().filter(c -> c.getType() == Cluster.DiscoveryType.EDS)
        .map(c -> c.getEdsClusterConfig().getServiceName()).filter(filter).forEach(eds::add);
    List<String> names = List.copyOf(eds);
    s.request(EDS, names);
    DiscoveryResponse cla = s.next();
    assertThat(cla.getTypeUrl()).isEqualTo(EDS);
    assertThat(cla.getResourcesCount()).isEqualTo(names.size());
    s.ack(cla, names);
    awaitAcked(s.nodeId, EDS, cla.getVersionInfo());
    return names;
  }

  private static List<ServiceInstance> movedInstances(String host, String ipPrefix) {
    Service s = Service.of(host, host.equals(MockMesh.HELLO) ? "10.1.0.0" : "10.2.0.0", MockMesh.PORTS);
    List<ServiceInstance> out = new ArrayList<>();
    for (int v = 0; v < 2; v++) {
      for (Port p : MockMesh.PORTS) {
        out.add(new ServiceInstance(new NetworkEndpoint(ipPrefix + v, p.port() == 80 ? 80 : p.port() + 1000, p), s,
            Labels.of("version", "v" + v), "region/zone", null));
      }
    }
    return out;
  }

  private void awaitAcked(String nodeId, String type, String version) throws InterruptedException {
    String shortType = XdsStats.shortType(type);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      ClientStatus.TypeStatus t = xds.clients().stream().filter(c -> c.nodeId().equals(nodeId)).findFirst()
          .map(c -> c.types().get(shortType)).orElse(null);
      if (t != null && t.ackedVersion().equals(version)) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError(type + " version " + version + " of " + nodeId + " never recorded as ACKed");
  }

  private void awaitAcked(String type, String version) throws InterruptedException {
    String shortType = XdsStats.shortType(type);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      ClientStatus.TypeStatus t = status().types().get(shortType);
      if (t != null && t.ackedVersion().equals(version)) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError(type + " version " + version + " never recorded as ACKed");
  }

  private ClientStatus status() {
    return xds.clients().stream().filter(c -> c.nodeId().equals(MockMesh.SIDECAR_V0)).findFirst().orElseThrow();
  }
}
