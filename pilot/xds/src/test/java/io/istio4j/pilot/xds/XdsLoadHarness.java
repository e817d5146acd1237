package io.istio4j.pilot.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.RouteRule;
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
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load harness for the xDS server (not a test): 1000 services, 5000 endpoints, 100 ADS clients that
 * ACK like Envoy and subscribe to everything they are given. Measures the full push after a route
 * rule edit (event to the last client's RDS response) and the endpoint push after an instance
 * change (event to the last client's EDS response), and the heap after GC.
 *
 * <pre>
 * ./mvnw -o -q -pl pilot/xds test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.istio4j.pilot.xds.XdsLoadHarness -Dexec.args="sidecar 100 1000 5"
 * </pre>
 *
 * Arguments: client kind ({@code sidecar}: each its own snapshot group; {@code proxyless}: one
 * shared group), clients, services, endpoints per service.
 */
public final class XdsLoadHarness {
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  /** An Envoy-like client: ACKs everything, asks for every EDS/RDS/CDS name it is given. */
  static final class Client {
    final String nodeId;
    final boolean proxyless;
    final StreamObserver<DiscoveryRequest> out;
    final AtomicLong lastRds = new AtomicLong();
    final AtomicLong lastEds = new AtomicLong();
    volatile boolean sawRoutes;
    boolean first = true;
    List<String> edsNames = List.of();
    List<String> rdsNames = List.of();
    List<String> cdsNames = List.of();
    /**
     * Clusters named by each route configuration held. A response may carry only the route
     * configurations that changed (allowed for RDS), so the clients keep what they hold and name
     * the union of their routes' clusters, as gRPC's xDS client does.
     */
    final Map<String, Set<String>> clustersByRoute = new HashMap<>();

    Client(ManagedChannel ch, String nodeId, boolean proxyless, List<String> listenerNames) {
      this.nodeId = nodeId;
      this.proxyless = proxyless;
      this.out = AggregatedDiscoveryServiceGrpc.newStub(ch).streamAggregatedResources(new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryResponse r) {
          try {
            handle(r);
          } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
          }
        }

        @Override
        public void onError(Throwable t) {
          System.err.println(nodeId + ": " + t);
        }

        @Override
        public void onCompleted() {}
      });
      send(LDS, proxyless ? listenerNames : List.of(), "", "");
      if (!proxyless) {
        send(CDS, List.of(), "", "");
      }
    }

    synchronized void send(String type, List<String> names, String version, String nonce) {
      DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names)
          .setVersionInfo(version).setResponseNonce(nonce);
      if (first) {
        b.setNode(Node.newBuilder().setId(nodeId));
        first = false;
      }
      out.onNext(b.build());
    }

    void handle(DiscoveryResponse r) throws InvalidProtocolBufferException {
      long now = System.nanoTime();
      switch (r.getTypeUrl()) {
        case CDS -> {
          Set<String> eds = new TreeSet<>();
          for (var a : r.getResourcesList()) {
            Cluster c = a.unpack(Cluster.class);
            if (c.getType() == Cluster.DiscoveryType.EDS) {
              eds.add(c.getEdsClusterConfig().getServiceName());
            }
          }
          send(CDS, proxyless ? cdsNames : List.of(), r.getVersionInfo(), r.getNonce());
          if (!List.copyOf(eds).equals(edsNames)) {
            edsNames = List.copyOf(eds);
            send(EDS, edsNames, "", "");
          }
        }
        case EDS -> {
          lastEds.set(now);
          send(EDS, edsNames, r.getVersionInfo(), r.getNonce());
        }
        case LDS -> {
          Set<String> rds = new TreeSet<>();
          for (var a : r.getResourcesList()) {
            Listener l = a.unpack(Listener.class);
            if (l.hasApiListener()) {
              rds.add(l.getApiListener().getApiListener().unpack(HttpConnectionManager.class).getRds().getRouteConfigName());
            }
            for (FilterChain fc : l.getFilterChainsList()) {
              for (Filter f : fc.getFiltersList()) {
                if (f.getTypedConfig().is(HttpConnectionManager.class)) {
                  HttpConnectionManager h = f.getTypedConfig().unpack(HttpConnectionManager.class);
                  if (h.hasRds()) {
                    rds.add(h.getRds().getRouteConfigName());
                  }
                }
              }
            }
          }
          send(LDS, r.getResourcesCount() > 0 && proxyless ? names(r) : List.of(), r.getVersionInfo(), r.getNonce());
          if (!List.copyOf(rds).equals(rdsNames)) {
            rdsNames = List.copyOf(rds);
            send(RDS, rdsNames, "", "");
          }
        }
        case RDS -> {
          lastRds.set(now);
          sawRoutes = true;
          send(RDS, rdsNames, r.getVersionInfo(), r.getNonce());
          if (proxyless) {
            for (var a : r.getResourcesList()) {
              RouteConfiguration rc = a.unpack(RouteConfiguration.class);
              Set<String> named = new TreeSet<>();
              for (VirtualHost vh : rc.getVirtualHostsList()) {
                for (Route rt : vh.getRoutesList()) {
                  if (!rt.getRoute().getCluster().isEmpty()) {
                    named.add(rt.getRoute().getCluster());
                  }
                  for (WeightedCluster.ClusterWeight w : rt.getRoute().getWeightedClusters().getClustersList()) {
                    named.add(w.getName());
                  }
                }
              }
              clustersByRoute.put(rc.getName(), named);
            }
            Set<String> clusters = new TreeSet<>();
            clustersByRoute.values().forEach(clusters::addAll);
            if (!List.copyOf(clusters).equals(cdsNames)) {
              cdsNames = List.copyOf(clusters);
              send(CDS, cdsNames, "", "");
            }
          }
        }
        default -> { }
      }
    }

    private static List<String> names(DiscoveryResponse r) throws InvalidProtocolBufferException {
      List<String> out = new ArrayList<>();
      for (var a : r.getResourcesList()) {
        out.add(a.unpack(Listener.class).getName());
      }
      return out;
    }
  }

  static Service service(int i) {
    return Service.of("svc-" + i + ".ns-" + (i % 10) + ".svc.cluster.local", "10.96." + (i / 250) + "." + (i % 250),
        List.of(new Port("http", 8080, Protocol.HTTP)));
  }

  static List<ServiceInstance> instances(Service s, int i, int perService, int generation) {
    List<ServiceInstance> out = new ArrayList<>();
    for (int k = 0; k < perService; k++) {
      int n = i * perService + k;
      out.add(new ServiceInstance(new NetworkEndpoint("10." + (100 + generation % 100) + "." + (n / 250) + "." + (n % 250), 8080,
          s.ports().get(0)), s, Labels.of("version", k % 2 == 0 ? "v1" : "v2"), "region/zone-" + (k % 3), null));
    }
    return out;
  }

  static RouteRule weighted(Service s, int v1) {
    return RouteRule.newBuilder().setDestination(IstioService.newBuilder().setService(s.hostname()))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v1").setWeight(v1))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v2").setWeight(100 - v1)).build();
  }

  public static void main(String[] args) throws Exception {
    String kind = args.length > 0 ? args[0] : "sidecar";
    int clients = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    int services = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    int perService = args.length > 3 ? Integer.parseInt(args[3]) : 5;
    boolean proxyless = kind.equals("proxyless");

    MemoryServiceRegistry registry = new MemoryServiceRegistry("load");
    MemoryConfigStore store = new MemoryConfigStore();
    List<Service> all = new ArrayList<>();
    for (int i = 0; i < services; i++) {
      Service s = service(i);
      all.add(s);
      registry.putService(s);
      registry.setInstances(s.hostname(), instances(s, i, perService, 0));
    }
    // A tenth of the services split 90/10 between versions.
    for (int i = 0; i < services; i += 10) {
      store.create(new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "split-" + i, "ns-" + (i % 10)), weighted(all.get(i), 90)));
    }
    registry.start();
    XdsServer xds = new XdsServer(registry, store, XdsOptions.defaults());
    registry.addListener(xds::onRegistryEvent);
    store.addListener(xds::onConfigEvent);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(xds.adsService()).build().start();
    xds.markSynced();

    List<String> listenerNames = new ArrayList<>();
    for (Service s : all) {
      listenerNames.add(s.hostname() + ":8080");
    }
    List<ManagedChannel> channels = new ArrayList<>();
    List<Client> cs = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int c = 0; c < clients; c++) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
          .maxInboundMessageSize(256 << 20).build();
      channels.add(ch);
      // Each sidecar sits next to one instance of a service (its own IP, so its own snapshot group).
      String ip = "10.100." + ((c * perService) / 250) + "." + ((c * perService) % 250);
      String id = proxyless ? "grpc-client-" + c : "sidecar~" + ip + "~pod-" + c + ".ns-" + (c % 10) + "~ns-" + (c % 10) + ".svc.cluster.local";
      cs.add(new Client(ch, id, proxyless, listenerNames));
    }
    while (!cs.stream().allMatch(c -> c.sawRoutes)) {
      Thread.sleep(5);
    }
    System.out.printf(Locale.ROOT, "%s: %d clients, %d services, %d endpoints: all configured in %d ms%n", kind, clients,
        services, services * perService, (System.nanoTime() - t0) / 1_000_000);
    Thread.sleep(6000); // let retired clusters of the start-up expire

    long[] full = new long[10];
    long[] fullServer = new long[full.length];
    for (int round = 0; round < full.length; round++) {
      long before = System.nanoTime();
      Config c = store.get(ConfigKind.ROUTE_RULE, "split-0", "ns-0").orElseThrow();
      store.update(new Config(c.meta(), weighted(all.get(0), round % 2 == 0 ? 80 : 90)));
      while (!cs.stream().allMatch(x -> x.lastRds.get() > before)) {
        Thread.sleep(1);
      }
      long last = cs.stream().mapToLong(x -> x.lastRds.get()).max().orElseThrow();
      full[round] = last - before;
      fullServer[round] = (long) (xds.stats().lastPushLatencySeconds() * 1e9);
      Thread.sleep(300);
    }
    long[] eds = new long[20];
    long[] edsServer = new long[eds.length];
    for (int round = 0; round < eds.length; round++) {
      int i = 1 + round;
      long before = System.nanoTime();
      registry.setInstances(all.get(i).hostname(), instances(all.get(i), i, perService, round + 1));
      while (!cs.stream().allMatch(x -> x.lastEds.get() > before)) {
        Thread.sleep(1);
      }
      long last = cs.stream().mapToLong(x -> x.lastEds.get()).max().orElseThrow();
      eds[round] = last - before;
      edsServer[round] = (long) (xds.stats().lastPushLatencySeconds() * 1e9);
      Thread.sleep(100);
    }
    System.gc();
    Thread.sleep(500);
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    System.out.printf(Locale.ROOT, "full push (rule edit -> last client's RDS, incl. %d ms debounce): %s%n",
        xds.options().debounce().toMillis(), summary(full));
    System.out.printf(Locale.ROOT, "endpoint push (instance change -> last client's EDS, incl. %d ms debounce): %s%n",
        xds.options().edsDebounce().toMillis(), summary(eds));
    System.out.printf(Locale.ROOT, "the server's own push time (change -> push thread done; sends may still run): full %s, endpoint %s%n",
        summary(fullServer), summary(edsServer));
    System.out.printf(Locale.ROOT, "heap after GC: %d MB; NACKs: %s; invalid resources: %d%n", heap >> 20,
        xds.stats().nacksByType(), xds.stats().invalidResources());
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    xds.close();
    System.exit(0);
  }

  static String summary(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    StringBuilder rounds = new StringBuilder();
    for (long n : nanos) {
      rounds.append(rounds.length() == 0 ? "" : " ").append(n / 1_000_000);
    }
    return String.format(Locale.ROOT, "p50 %.1f ms, max %.1f ms (n=%d; rounds in ms: %s)", s[s.length / 2] / 1e6,
        s[s.length - 1] / 1e6, s.length, rounds);
  }
}
