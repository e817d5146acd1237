package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.xds.XdsNameResolverProvider;
import io.istio4j.pilot.config.v1.CircuitBreaker;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.HTTPFaultInjection;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.LoadBalancing;
import io.istio4j.pilot.config.v1.MatchCondition;
import io.istio4j.pilot.config.v1.MatchRequest;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own xDS client ({@code xds:///} target, bootstrap pointing at this server) calling two
 * real gRPC backends, v1 and v2, through the routes Pilot serves.
 */
class ProxylessGrpcIT {
  static final String HOST = "echo.default.svc.cluster.local";
  static final String TARGET = HOST + ":8080";
  static final AtomicInteger SCHEMES = new AtomicInteger();

  EchoBackend v1;
  EchoBackend v2;
  MemoryServiceRegistry registry;
  MemoryConfigStore store;
  XdsServer xds;
  Server pilot;
  final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    v1 = new EchoBackend("v1");
    v2 = new EchoBackend("v2");
    registry = new MemoryServiceRegistry("test");
    store = new MemoryConfigStore();
    Port grpc = new Port("grpc", 8080, Protocol.GRPC);
    Service echo = Service.of(HOST, "10.0.0.1", List.of(grpc));
    registry.putService(echo);
    registry.setInstances(HOST, List.of(
        new ServiceInstance(new NetworkEndpoint("127.0.0.1", v1.port(), grpc), echo, Labels.of("version", "v1"), "r1/z1", null),
        new ServiceInstance(new NetworkEndpoint("127.0.0.1", v2.port(), grpc), echo, Labels.of("version", "v2"), "r1/z1", null)));
    registry.start();
    xds = new XdsServer(registry, store, XdsOptions.defaults().withDebounce(java.time.Duration.ofMillis(20), java.time.Duration.ofMillis(1)));
    registry.addListener(xds::onRegistryEvent);
    store.addListener(xds::onConfigEvent);
    pilot = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(xds.adsService()).build().start();
    xds.markSynced();
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    pilot.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    xds.close();
    v1.close();
    v2.close();
  }

  /** A channel through grpc-java's xDS resolver with its own bootstrap (node id) and scheme. */
  ManagedChannel channel(String nodeId) {
    String scheme = "xds-it-" + SCHEMES.incrementAndGet();
    Map<String, Object> bootstrap = Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + pilot.getPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", nodeId, "cluster", "it"));
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel ch = Grpc.newChannelBuilder(scheme + ":///" + TARGET, InsecureChannelCredentials.create()).build();
    channels.add(ch);
    return ch;
  }

  static CallOptions deadline() {
    return CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  static IstioService echo() {
    return IstioService.newBuilder().setName("echo").build();
  }

  static DestinationWeight to(String version, int weight) {
    return DestinationWeight.newBuilder().putLabels("version", version).setWeight(weight).build();
  }

  void put(String name, RouteRule rule) {
    Config c = new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, name, "default"), rule);
    if (store.get(ConfigKind.ROUTE_RULE, name, "default").isPresent()) {
      store.update(new Config(c.meta().withResourceVersion(store.get(ConfigKind.ROUTE_RULE, name, "default").get().meta().resourceVersion()), rule));
    } else {
      store.create(c);
    }
  }

  /** Calls until the answer is {@code version} (the config has reached the client). */
  static void awaitAnswer(Channel ch, String version) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    int same = 0;
    while (same < 20) {
      assertThat(System.nanoTime()).as("client never answered by %s", version).isLessThan(end);
      same = EchoBackend.who(ch, deadline()).equals(version) ? same + 1 : 0;
      if (same == 0) {
        Thread.sleep(10);
      }
    }
  }

  @Test
  void weightedRuleSplitsTrafficEightyTwenty() throws Exception {
    put("echo-80-20", RouteRule.newBuilder().setDestination(echo()).addRoute(to("v1", 80)).addRoute(to("v2", 20)).build());
    ManagedChannel ch = channel("weighted-client");
    // Wait until the rule is in force (both subsets answer), then count.
    boolean seenV2 = false;
    for (int i = 0; i < 2000 && !seenV2; i++) {
      seenV2 = EchoBackend.who(ch, deadline()).equals("v2");
    }
    assertThat(seenV2).isTrue();
    int n = 1000;
    int ones = 0;
    for (int i = 0; i < n; i++) {
      if (EchoBackend.who(ch, deadline()).equals("v1")) {
        ones++;
      }
    }
    // Binomial(1000, 0.8): mean 800, sigma 12.6; 4 sigma is about 51.
    assertThat(ones).isBetween(749, 851);
    assertThat(xds.clients()).anySatisfy(c -> {
      assertThat(c.nodeId()).isEqualTo("weighted-client");
      assertThat(c.proxyType()).isEqualTo("proxyless");
      assertThat(c.types().get("Listener").ackedVersion()).isNotEmpty();
      assertThat(c.types().get("RouteConfiguration").ackedVersion()).isNotEmpty();
      assertThat(c.types().get("Cluster").ackedVersion()).isNotEmpty();
      assertThat(c.types().get("ClusterLoadAssignment").ackedVersion()).isNotEmpty();
    });
    assertThat(xds.stats().nacksByType()).isEmpty();
  }

  @Test
  void headerRuleRoutesOneUserToV2() throws Exception {
    put("echo-default", RouteRule.newBuilder().setDestination(echo()).setPrecedence(1).addRoute(to("v1", 100)).build());
    put("echo-jason", RouteRule.newBuilder().setDestination(echo()).setPrecedence(2)
        .setMatch(MatchCondition.newBuilder().setRequest(MatchRequest.newBuilder()
            .putHeaders("end-user", StringMatch.newBuilder().setExact("jason").build())))
        .addRoute(to("v2", 100)).build());
    ManagedChannel ch = channel("header-client");
    Metadata jason = new Metadata();
    jason.put(Metadata.Key.of("end-user", Metadata.ASCII_STRING_MARSHALLER), "jason");
    Channel asJason = ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(jason));
    Metadata other = new Metadata();
    other.put(Metadata.Key.of("end-user", Metadata.ASCII_STRING_MARSHALLER), "json");
    Channel asOther = ClientInterceptors.intercept(ch, MetadataUtils.newAttachHeadersInterceptor(other));
    awaitAnswer(asJason, "v2");
    for (int i = 0; i < 100; i++) {
      assertThat(EchoBackend.who(asJason, deadline())).isEqualTo("v2");
      assertThat(EchoBackend.who(asOther, deadline())).isEqualTo("v1");
      assertThat(EchoBackend.who(ch, deadline())).isEqualTo("v1");
    }
  }

  @Test
  void faultAbortIsObservedAsTheConfiguredStatus() throws Exception {
    put("echo-abort", RouteRule.newBuilder().setDestination(echo())
        .setHttpFault(HTTPFaultInjection.newBuilder().setAbort(HTTPFaultInjection.Abort.newBuilder()
            .setPercent(100).setHttpStatus(503)))
        .build());
    ManagedChannel ch = channel("fault-client");
    Status.Code code = null;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (code != Status.Code.UNAVAILABLE && System.nanoTime() < end) {
      try {
        EchoBackend.who(ch, deadline());
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
      }
    }
    // gRPC maps an injected HTTP 503 to UNAVAILABLE; every call now fails so.
    for (int i = 0; i < 20; i++) {
      assertThatThrownBy(() -> EchoBackend.who(ch, deadline())).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
    // A gRPC status abort (0.2's grpc_status) is injected as that status.
    put("echo-abort", RouteRule.newBuilder().setDestination(echo())
        .setHttpFault(HTTPFaultInjection.newBuilder().setAbort(HTTPFaultInjection.Abort.newBuilder()
            .setPercent(100).setGrpcStatus("PERMISSION_DENIED")))
        .build());
    end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (code != Status.Code.PERMISSION_DENIED && System.nanoTime() < end) {
      try {
        EchoBackend.who(ch, deadline());
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
      }
    }
    assertThat(code).isEqualTo(Status.Code.PERMISSION_DENIED);
    // Removing the rule restores traffic.
    store.delete(ConfigKind.ROUTE_RULE, "echo-abort", "default");
    assertThat(anyVersion(ch)).isIn("v1", "v2");
  }

  private static String anyVersion(Channel ch) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end) {
      try {
        return EchoBackend.who(ch, deadline());
      } catch (StatusRuntimeException e) {
        Thread.sleep(10);
      }
    }
    throw new AssertionError("calls still fail after the fault rule was deleted");
  }

  @Test
  void ruleEditedWhileTrafficFlowsTakesEffectWithNoFailedCall() throws Exception {
    put("echo-edit", RouteRule.newBuilder().setDestination(echo()).addRoute(to("v1", 100)).build());
    ManagedChannel ch = channel("edit-client");
    awaitAnswer(ch, "v1");
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong calls = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    AtomicLong v2Answers = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread th = new Thread(() -> {
        while (running.get()) {
          try {
            if (EchoBackend.who(ch, deadline()).equals("v2")) {
              v2Answers.incrementAndGet();
            }
          } catch (StatusRuntimeException e) {
            failures.incrementAndGet();
          }
          calls.incrementAndGet();
        }
      });
      th.start();
      threads.add(th);
    }
    long before = calls.get();
    while (calls.get() < before + 200) {
      Thread.sleep(5);
    }
    // Flip the rule back and forth while calls flow: each edit swaps the subset clusters.
    for (int round = 0; round < 3; round++) {
      String to = round % 2 == 0 ? "v2" : "v1";
      put("echo-edit", RouteRule.newBuilder().setDestination(echo()).addRoute(to(to, 100)).build());
      awaitAnswer(ch, to);
    }
    running.set(false);
    for (Thread th : threads) {
      th.join();
    }
    assertThat(v2Answers.get()).isPositive();
    assertThat(failures.get()).as("failed calls out of %d", calls.get()).isZero();
  }

  @Test
  void endpointChangeReachesTheClient() throws Exception {
    ManagedChannel ch = channel("eds-client");
    assertThat(anyVersion(ch)).isIn("v1", "v2");
    Port grpc = new Port("grpc", 8080, Protocol.GRPC);
    Service echo = registry.service(HOST).orElseThrow();
    // Only v2's endpoint remains: an endpoint-only push.
    long edsBefore = xds.stats().edsPushes();
    registry.setInstances(HOST, List.of(
        new ServiceInstance(new NetworkEndpoint("127.0.0.1", v2.port(), grpc), echo, Labels.of("version", "v2"), "r1/z1", null)));
    awaitAnswer(ch, "v2");
    assertThat(xds.stats().edsPushes()).isGreaterThan(edsBefore);
  }

  @Test
  void policiesGrpcLacksFallBackToRoundRobinInsteadOfBeingRejected() throws Exception {
    ManagedChannel ch = channel("lb-client");
    assertThat(anyVersion(ch)).isIn("v1", "v2");
    // gRPC has no RANDOM balancer (grpc-java rejected such a cluster, grpc-js rejected LEAST_REQUEST
    // too). Proxyless clients get a list to pick from: the policy, then round robin.
    for (LoadBalancing.SimpleLBPolicy lb : List.of(LoadBalancing.SimpleLBPolicy.RANDOM, LoadBalancing.SimpleLBPolicy.LEAST_CONN)) {
      String before = clusterStatus("lb-client").sentVersion();
      store.create(new Config(ConfigMeta.of(ConfigKind.DESTINATION_POLICY, "echo-" + lb.name().toLowerCase(Locale.ROOT), "default"),
          DestinationPolicy.newBuilder().setDestination(echo())
              .setLoadBalancing(LoadBalancing.newBuilder().setName(lb))
              .setCircuitBreaker(CircuitBreaker.newBuilder().setSimpleCb(CircuitBreaker.SimpleCircuitBreakerPolicy.newBuilder()
                  .setMaxConnections(10).setSleepWindow(Duration.newBuilder().setSeconds(1))))
              .build()));
      awaitClusterAcked("lb-client", before);
      assertThat(xds.stats().nacksByType()).as("no client rejects the %s cluster", lb).doesNotContainKey("Cluster");
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 20; i++) {
        seen.add(EchoBackend.who(ch, deadline()));
      }
      assertThat(seen).as("calls under %s spread over both backends", lb).containsExactlyInAnyOrder("v1", "v2");
      store.delete(ConfigKind.DESTINATION_POLICY, "echo-" + lb.name().toLowerCase(Locale.ROOT), "default");
    }
  }

  private ClientStatus.TypeStatus clusterStatus(String nodeId) {
    return xds.clients().stream().filter(c -> c.nodeId().equals(nodeId)).findFirst()
        .map(c -> c.types().get("Cluster")).orElseThrow();
  }

  /** Waits until clusters newer than version {@code before} were sent to the client and it answered. */
  private void awaitClusterAcked(String nodeId, String before) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < end) {
      ClientStatus.TypeStatus t = clusterStatus(nodeId);
      if (!t.sentVersion().equals(before) && (t.ackedVersion().equals(t.sentVersion()) || t.nacks() > 0)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the cluster update never reached " + nodeId);
  }
}
