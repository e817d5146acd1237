package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class PilotServerTest {

  private final TestRegistry registry = new TestRegistry("file:/srv/registry");
  private final MemoryConfigStore store = new MemoryConfigStore();
  private final FakeXds xds = new FakeXds();
  private final HttpClient http = HttpClient.newHttpClient();
  private PilotServer pilot;

  @AfterEach
  void stop() throws InterruptedException {
    if (pilot != null) {
      pilot.close();
    }
  }

  private PilotComponents components() {
    return PilotComponents.standard()
        .withRegistries((spec, o) -> registry)
        .withAggregator(list -> list.get(0))
        .withConfigStores((url, o) -> store)
        .withXds((discovery, s, mesh) -> xds)
        .withRegistryView(DebugPages::describe);
  }

  private static DiscoveryOptions options(String configStore) {
    return new DiscoveryOptions("127.0.0.1", 0, "127.0.0.1", 0, List.of("file:///srv/registry"), configStore,
        new MeshSettings("cluster.local", "", MeshSettings.defaultMeshConfig()), Duration.ofMillis(200),
        DiscoveryOptions.DEFAULT_FILE_POLL_INTERVAL);
  }

  @Test
  void readyOnlyOnceEveryRegistryAndTheStoreHaveSyncedAndXdsServes() throws Exception {
    pilot = PilotServer.start(options("fs:///srv/config"), components());
    assertThat(get("/readyz")).startsWith("503 not ready: waiting for registry file:/srv/registry to sync");
    assertThat(get("/healthz")).isEqualTo("200 ok\n");
    assertThat(xds.serving).isFalse();

    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(10))).isTrue();
    assertThat(xds.serving).isTrue();
    assertThat(get("/readyz")).startsWith("200 ready: serving xDS: 1 registry (0 service(s)), config store fs:///srv/config");
  }

  @Test
  void registryAndConfigEventsReachTheXdsServerAndTheMetrics() throws Exception {
    pilot = PilotServer.start(options("fs:///srv/config"), components());
    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(10))).isTrue();

    Port http = new Port("http", 9080, Protocol.HTTP);
    Service reviews = Service.of("reviews.default.svc.cluster.local", "10.0.0.9", List.of(http));
    registry.memory.putService(reviews);
    registry.memory.setInstances(reviews.hostname(), List.of(new ServiceInstance(
        new NetworkEndpoint("10.1.1.2", 9080, http), reviews, Labels.of("version", "v1"), null, null)));
    store.create(new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "reviews-default", "default"),
        RouteRule.newBuilder().setDestination(IstioService.newBuilder().setName("reviews")).build()));

    assertThat(xds.events).hasSize(3);
    assertThat(xds.events.get(0)).isInstanceOf(RegistryEvent.class);
    assertThat(xds.events.get(2)).isInstanceOf(ConfigEvent.class);

    String metrics = get("/metrics");
    assertThat(metrics).startsWith("200 ")
        .contains("pilot_xds 3.0")
        .contains("pilot_xds_pushes_total{type=\"Cluster\"} 7.0")
        .contains("pilot_proxy_convergence_time_bucket{le=\"0.01\"} 5")
        .contains("pilot_proxy_convergence_time_bucket{le=\"0.1\"} 6")
        .contains("pilot_proxy_convergence_time_bucket{le=\"+Inf\"} 7")
        .contains("pilot_proxy_convergence_time_count 7")
        .contains("pilot_proxy_convergence_time_sum 2.5")
        .contains("pilot_total_xds_rejects_total{type=\"RouteConfiguration\"} 1.0")
        .contains("pilot_services{registry=\"file:/srv/registry\"} 1.0")
        .contains("pilot_service_instances{registry=\"file:/srv/registry\"} 1.0")
        .contains("pilot_config_objects{kind=\"route-rule\",state=\"valid\"} 1.0")
        .contains("pilot_ready 1.0")
        .contains("pilot_config_events_total{kind=\"route-rule\",type=\"add\"} 1.0");

    assertThat(get("/debug/registryz")).contains("\"hostname\" : \"reviews.default.svc.cluster.local\"")
        .contains("\"address\" : \"10.1.1.2\"").contains("\"version\" : \"v1\"");
    assertThat(get("/debug/configz")).contains("\"key\" : \"route-rule/default/reviews-default\"")
        .contains("\"state\" : \"VALID\"").contains("\"store\" : \"fs:///srv/config\"");
    assertThat(get("/debug/adsz")).isEqualTo("200 {\"clients\":[]}\n");
    assertThat(get("/version")).contains("istio4j-pilot-discovery");
  }

  @Test
  void rejectedObjectsAppearOnConfigzWithTheirError() throws Exception {
    pilot = PilotServer.start(options("fs:///srv/config"), components().withConfigStatus(s -> List.of(
        new ConfigObjectStatus("route-rule/default/bad", ConfigObjectStatus.State.STALE, "bad.yaml",
            "bad.yaml: RouteRule default/bad: spec.route[0].weight: 150 (expected: 0-100)"))));
    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(10))).isTrue();
    assertThat(get("/debug/configz")).contains("\"state\" : \"STALE\"").contains("\"rejected\" : 1")
        .contains("spec.route[0].weight: 150 (expected: 0-100)");
    assertThat(get("/metrics")).contains("pilot_config_objects{kind=\"route-rule\",state=\"stale\"} 1.0");
  }

  @Test
  void anXdsServerThatCannotStartKeepsPilotUnreadyAndSaysWhy() throws Exception {
    FakeXds broken = new FakeXds() {
      @Override
      public void startServing() {
        throw new IllegalStateException("translation failed for reviews");
      }
    };
    pilot = PilotServer.start(options(null), components().withXds((d, s, m) -> broken));
    registry.sync();
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!pilot.readiness().reason().contains("cannot start") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(get("/readyz")).startsWith("503 not ready: cannot start serving xDS: ")
        .contains("translation failed for reviews");
  }

  @Test
  void shutdownTurnsReadyzOffAndClosesEveryPart() throws Exception {
    pilot = PilotServer.start(options(null), components());
    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(10))).isTrue();
    assertThat(pilot.shutdownGracefully()).isTrue();
    assertThat(pilot.readiness()).isEqualTo(Readiness.notReady("shutting down"));
    assertThat(xds.closed).isTrue();
    assertThat(registry.closed).isTrue();
    pilot = null;
  }

  @Test
  void noConfigStoreMeansAnEmptyOneThatIsSynced() throws Exception {
    pilot = PilotServer.start(options(null), components());
    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(10))).isTrue();
    assertThat(pilot.readiness().reason()).contains("config store none (--configStoreURL not set)");
  }

  @Test
  void aTakenGrpcPortIsNamedWithItsFlagAndEverythingOpenedIsClosed() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      DiscoveryOptions o = options(null);
      DiscoveryOptions busy = new DiscoveryOptions(o.address(), taken.getLocalPort(), o.monitoringAddress(), 0,
          o.registries(), null, o.mesh(), o.shutdownGracePeriod(), o.filePollInterval());
      assertThatThrownBy(() -> PilotServer.start(busy, components()))
          .isInstanceOf(BindException.class)
          .hasMessageContaining("127.0.0.1:" + taken.getLocalPort() + " (gRPC --grpcPort)");
    }
    assertThat(xds.closed).isTrue();
    assertThat(registry.closed).isTrue();
  }

  @Test
  void anUnknownRegistryIsAUsageError() {
    assertThatThrownBy(() -> PilotServer.start(options(null), PilotComponents.standard()
        .withRegistries((spec, o) -> {
          throw new IllegalArgumentException("--registries " + spec + ": unknown");
        })))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("file:///srv/registry");
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + pilot.monitoringPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

}
