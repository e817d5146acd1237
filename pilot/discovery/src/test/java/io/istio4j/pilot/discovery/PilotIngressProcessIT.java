package io.istio4j.pilot.discovery;

import static io.istio4j.pilot.discovery.PilotDiscoveryProcessIT.ROOT;
import static io.istio4j.pilot.discovery.PilotDiscoveryProcessIT.copy;
import static io.istio4j.pilot.discovery.PilotDiscoveryProcessIT.freePort;
import static io.istio4j.pilot.discovery.PilotDiscoveryProcessIT.run;
import static io.istio4j.pilot.discovery.PilotDiscoveryProcessIT.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/pilot-discovery discovery} on the Ingress example (docs/pilot.md "Ingress"): what an
 * ingress proxy ({@code ingress~...}) gets over ADS is consistent (every route's cluster is served,
 * every EDS cluster has its endpoints, every listener's route configuration exists), TLS is
 * terminated with the Secret's certificate per SNI host, and edits of the Secret reach the stream.
 */
class PilotIngressProcessIT {
  static final String INGRESS = "ingress~10.9.9.9~istio-ingress-5d8b9c.istio-system~istio-system.svc.cluster.local";

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  /** What one ADS stream of the ingress node was served. */
  private record View(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints, List<Listener> listeners,
      List<RouteConfiguration> routes) {
    Listener listener(String name) {
      return listeners.stream().filter(l -> l.getName().equals(name)).findFirst().orElse(null);
    }

    RouteConfiguration route(String name) {
      return routes.stream().filter(r -> r.getName().equals(name)).findFirst().orElseThrow();
    }
  }

  private static View fetch(ManagedChannel channel) throws Exception {
    return fetch(channel, Duration.ofSeconds(20));
  }

  private static View fetch(ManagedChannel channel, Duration timeout) throws Exception {
    try (AdsClient ads = new AdsClient(channel, AdsClient.node(INGRESS, "istio-ingress"), timeout)) {
      DiscoveryResponse cds = ads.fetch(AdsClient.CLUSTER, List.of());
      List<Cluster> clusters = unpack(cds, Cluster.class);
      List<String> eds = AdsClient.edsNames(cds);
      List<ClusterLoadAssignment> endpoints = eds.isEmpty() ? List.of()
          : unpack(ads.fetch(AdsClient.ENDPOINT, eds), ClusterLoadAssignment.class);
      DiscoveryResponse lds = ads.fetch(AdsClient.LISTENER, List.of());
      List<String> rds = AdsClient.rdsNames(lds);
      List<RouteConfiguration> routes = rds.isEmpty() ? List.of()
          : unpack(ads.fetch(AdsClient.ROUTE, rds), RouteConfiguration.class);
      View v = new View(clusters, endpoints, unpack(lds, Listener.class), routes);
      assertConsistent(v, eds, rds);
      return v;
    }
  }

  private static <T extends Message> List<T> unpack(DiscoveryResponse r, Class<T> type)
      throws Exception {
    List<T> out = new ArrayList<>();
    for (Any a : r.getResourcesList()) {
      out.add(a.unpack(type));
    }
    return out;
  }

  /** What Envoy needs to apply the view without a 404 or 503 of its own making (issue #1038). */
  private static void assertConsistent(View v, List<String> eds, List<String> rds) {
    Set<String> clusterNames = new HashSet<>();
    v.clusters().forEach(c -> clusterNames.add(c.getName()));
    Set<String> assignments = new HashSet<>();
    for (ClusterLoadAssignment a : v.endpoints()) {
      assignments.add(a.getClusterName());
      assertThat(a.getEndpointsList()).as("endpoints of %s", a.getClusterName()).isNotEmpty();
    }
    assertThat(assignments).containsExactlyInAnyOrderElementsOf(eds);
    assertThat(v.routes()).extracting(RouteConfiguration::getName).containsExactlyInAnyOrderElementsOf(rds);
    for (RouteConfiguration rc : v.routes()) {
      for (VirtualHost vh : rc.getVirtualHostsList()) {
        for (Route r : vh.getRoutesList()) {
          assertThat(clusterNames).as("cluster of route %s in %s", r.getName(), rc.getName())
              .contains(r.getRoute().getCluster());
        }
      }
    }
  }

  /**
   * Fetches until the view satisfies {@code condition}. A fetch that races a push (the listeners
   * of the old snapshot, then routes of the new one, which no longer has a route the old listener
   * named) waits in vain: this one-shot client does not follow the listener push that Envoy would
   * act on, so it is retried.
   */
  private static View await(ManagedChannel channel, Predicate<View> condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        View v = fetch(channel, Duration.ofSeconds(5));
        if (condition.test(v)) {
          return v;
        }
      } catch (AdsClient.AdsException e) {
        // raced a push: ask again
      }
      assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private String get(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  private String awaitMetric(int port, String line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String metrics = get(port, "/metrics");
    while (!metrics.contains(line)) {
      assertThat(System.nanoTime()).as("waiting for " + line + " in:\n" + metrics).isLessThan(deadline);
      Thread.sleep(100);
      metrics = get(port, "/metrics");
    }
    return metrics;
  }

  @Test
  void anIngressNodeGetsConsistentTlsListenersRoutesAndClustersAndFollowsItsSecret() throws Exception {
    Path registry = copy(ROOT.resolve("examples/pilot-quickstart/registry"), dir.resolve("registry"));
    Path config = copy(ROOT.resolve("examples/pilot-ingress/config"), dir.resolve("config"));
    String secretYaml = Files.readString(config.resolve("bookinfo-tls-secret.yaml"));
    JsonNode secret = new ObjectMapper(new YAMLFactory()).readTree(secretYaml);
    String certificate = new String(Base64.getDecoder().decode(secret.path("data").path("tls.crt").asText()),
        StandardCharsets.US_ASCII);
    // Attacks: an Ingress of another class (ignored) and one naming a service that does not exist.
    write(config.resolve("others.yaml"), """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: nginx-only, annotations: {kubernetes.io/ingress.class: nginx}}
        spec:
          defaultBackend: {service: {name: productpage, port: {number: 9080}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: ghost}
        spec:
          ingressClassName: istio
          rules:
          - host: ghost.example.com
            http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: ghost, port: {number: 80}}}}
        """);
    int grpc = freePort();
    int monitoring = freePort();
    Path log = dir.resolve("pilot.log");
    Process pilot = new ProcessBuilder(ROOT.resolve("bin/pilot-discovery").toString(), "discovery",
        "--grpcPort", String.valueOf(grpc), "--monitoringPort", String.valueOf(monitoring),
        "--registries", "file://" + registry, "--configStoreURL", "fs://" + config, "--shutdownGracePeriod", "1s")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + grpc, InsecureChannelCredentials.create()).build();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        assertThat(pilot.isAlive()).as("pilot exited:\n" + Files.readString(log)).isTrue();
        try {
          if (get(monitoring, "/readyz").startsWith("200")) {
            break;
          }
        } catch (IOException e) {
          // not listening yet
        }
        assertThat(System.nanoTime()).as("ready within 60 s:\n" + Files.readString(log)).isLessThan(deadline);
        Thread.sleep(100);
      }

      View v = await(channel, x -> x.listeners().size() == 2, "both listeners");
      assertThat(v.listeners()).extracting(Listener::getName).containsExactly("0.0.0.0_443", "0.0.0.0_80");
      List<FilterChain> chains = v.listener("0.0.0.0_443").getFilterChainsList();
      assertThat(chains).singleElement().satisfies(c ->
          assertThat(c.getFilterChainMatch().getServerNamesList()).containsExactly("bookinfo.example.com"));
      DownstreamTlsContext tls = chains.get(0).getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
      assertThat(tls.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString())
          .isEqualTo(certificate);
      assertThat(v.route("443").getVirtualHostsList()).extracting(VirtualHost::getName)
          .containsExactly("bookinfo.example.com");
      assertThat(v.route("443").getVirtualHosts(0).getRoutesList()).extracting(r -> r.getMatch().hasPath()
          ? r.getMatch().getPath() : r.getMatch().getPathSeparatedPrefix())
          .containsExactly("/productpage", "/api/v1/products");
      assertThat(v.route("80").getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly("*");
      assertThat(v.route("80").getVirtualHosts(0).getRoutesList()).extracting(r -> r.getRoute().getCluster())
          .containsExactly("outbound|9080||reviews.default.svc.cluster.local",
              "outbound|9080||productpage.default.svc.cluster.local");
      String metrics = awaitMetric(monitoring, "pilot_xds_ingress_rules_not_served 1.0");
      assertThat(metrics).contains("pilot_config_objects{kind=\"ingress-rule\",state=\"valid\"} 5.0");
      assertThat(Files.readString(log)).contains("ingress-rule/default/ghost-1-1: not served: service "
          + "ghost.default.svc.cluster.local is not in the registry");

      // The Secret goes: bookinfo.example.com is refused on 443 (not downgraded to plain HTTP), the rest stays.
      Files.delete(config.resolve("bookinfo-tls-secret.yaml"));
      View without = await(channel, x -> x.listener("0.0.0.0_443") == null, "no TLS listener without the secret");
      assertThat(without.route("80").getVirtualHostsList()).extracting(VirtualHost::getName).containsExactly("*");
      awaitMetric(monitoring, "pilot_xds_ingress_rules_not_served 3.0");

      // A broken Secret (the key of another certificate) is refused too, and says why on /debug/configz.
      KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
      ec.initialize(256);
      String otherKey = "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder().encodeToString(ec.generateKeyPair().getPrivate().getEncoded())
          + "\n-----END PRIVATE KEY-----\n";
      write(config.resolve("bookinfo-tls-secret.yaml"), secretYaml.replace(secret.path("data").path("tls.key").asText(),
          Base64.getEncoder().encodeToString(otherKey.getBytes(StandardCharsets.US_ASCII))));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!get(monitoring, "/debug/configz").contains("does not belong to the first certificate")) {
        assertThat(System.nanoTime()).as("configz names the broken secret").isLessThan(until);
        Thread.sleep(100);
      }
      assertThat(await(channel, x -> true, "a view").listener("0.0.0.0_443")).isNull();

      // The Secret is back: TLS is served again.
      write(config.resolve("bookinfo-tls-secret.yaml"), secretYaml);
      await(channel, x -> x.listener("0.0.0.0_443") != null, "the TLS listener with the secret back");
      awaitMetric(monitoring, "pilot_xds_ingress_rules_not_served 1.0");

      String dump = run(ROOT.resolve("bin/pilot-discovery").toString(), "dump", "--server", "127.0.0.1:" + grpc,
          "--node", INGRESS, "--type", "listeners");
      assertThat(dump).contains("\"0.0.0.0_443\"").contains("bookinfo.example.com").contains("\"0.0.0.0_80\"");
    } finally {
      channel.shutdownNow();
      pilot.destroy();
      pilot.waitFor(30, TimeUnit.SECONDS);
      pilot.destroyForcibly();
    }
  }
}
