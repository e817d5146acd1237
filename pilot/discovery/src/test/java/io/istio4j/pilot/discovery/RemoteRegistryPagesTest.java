package io.istio4j.pilot.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.registry.AggregateRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real Eureka registry (against a stand-in HTTP server answering Eureka's JSON) next to another
 * registry with a clashing hostname: the conflict on /debug/registryz and /metrics, and the
 * registry's health in /metrics when its server fails.
 */
class RemoteRegistryPagesTest {
  private static final String APPS = """
      {"applications": {"application": [{"name": "FOO", "instance": [{"instanceId": "foo-1",
        "hostName": "foo.bar.local", "ipAddr": "10.0.0.1", "status": "UP", "port": {"$": 5000, "@enabled": "true"},
        "securePort": {"$": 5443, "@enabled": "false"}, "metadata": {"istio.protocol": "http"}}]}]}}
      """;

  private final TestRegistry other = new TestRegistry("file:/srv/registry");
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicInteger status = new AtomicInteger(200);
  private HttpServer eureka;
  private PilotServer pilot;

  @AfterEach
  void stop() throws InterruptedException {
    if (pilot != null) {
      pilot.close();
    }
    if (eureka != null) {
      eureka.stop(0);
    }
  }

  @Test
  void conflictsAndRemoteRegistryHealthAreOnTheDebugPageAndInTheMetrics() throws Exception {
    eureka = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    eureka.createContext("/eureka/v2/apps", exchange -> {
      byte[] body = APPS.getBytes(UTF_8);
      exchange.sendResponseHeaders(status.get(), body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    eureka.start();
    String spec = "eureka://127.0.0.1:" + eureka.getAddress().getPort() + "?interval=50ms&timeout=5s";
    PilotComponents standard = PilotComponents.standard();
    PilotComponents components = standard
        .withRegistries((s, o) -> s.startsWith("eureka") ? standard.registries().open(s, o) : other)
        .withAggregator(AggregateRegistry::new)
        .withConfigStores((url, o) -> new MemoryConfigStore())
        .withXds((discovery, s, mesh) -> new FakeXds());
    DiscoveryOptions options = new DiscoveryOptions("127.0.0.1", 0, "127.0.0.1", 0, List.of(spec, "file:///srv/registry"),
        "fs:///srv/config", new MeshSettings("cluster.local", "", MeshSettings.defaultMeshConfig()), Duration.ofMillis(200),
        DiscoveryOptions.DEFAULT_FILE_POLL_INTERVAL);
    other.memory.putService(Service.of("foo.bar.local", null, List.of(new Port("http", 80, Protocol.HTTP))));
    other.sync();
    pilot = PilotServer.start(options, components);
    assertThat(pilot.awaitReady(Duration.ofSeconds(30))).isTrue();

    String name = "eureka:127.0.0.1:" + eureka.getAddress().getPort();
    String page = get("/debug/registryz");
    assertThat(page).contains("\"conflicts\" : [ {\n    \"hostname\" : \"foo.bar.local\",\n    \"winner\" : \"" + name
        + "\",\n    \"shadowed\" : [ \"file:/srv/registry\" ]");
    assertThat(page).contains("\"state\" : \"OK\"");
    assertThat(get("/metrics"))
        .contains("pilot_registry_conflicts{registry=\"file:/srv/registry\"} 1.0")
        .contains("pilot_registry_conflicts{registry=\"" + name + "\"} 0.0")
        .contains("pilot_registry_up{registry=\"" + name + "\"} 1.0")
        .contains("pilot_registry_staleness_seconds{registry=\"" + name + "\"} 0.0")
        .contains("pilot_registry_sync_errors_total{registry=\"" + name + "\"} 0.0")
        .contains("pilot_registry_requests_total{registry=\"" + name + "\"}")
        .doesNotContain("pilot_registry_up{registry=\"file:/srv/registry\"}");

    // Eureka fails: the services stay, and the metrics say so.
    status.set(503);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!get("/metrics").contains("pilot_registry_up{registry=\"" + name + "\"} 0.0")) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(get("/metrics")).doesNotContain("pilot_registry_sync_errors_total{registry=\"" + name + "\"} 0.0")
        .contains("pilot_services{registry=\"" + name + "\"} 1.0");
    assertThat(get("/debug/registryz")).contains("\"state\" : \"STALE\"").contains("HTTP 503 (expected 200)");
    assertThat(get("/readyz")).startsWith("200 ");
  }

  private String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + pilot.monitoringPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }
}
