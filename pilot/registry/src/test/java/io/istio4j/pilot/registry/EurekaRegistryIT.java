package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.FileRegistryTest.await;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Eureka registry against a real Eureka server (Spring Cloud Netflix, pilot/eureka-test-server)
 * started in its own JVM on a free port: instances registered, renewed, taken out of service,
 * expired and cancelled over Eureka's REST API, and the registry following each change.
 */
class EurekaRegistryIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static Process eureka;
  private static URI base;
  private static Path log;

  @BeforeAll
  static void startEureka() throws Exception {
    String jar = System.getProperty("eureka.test.server.jar", "");
    if (jar.isEmpty() || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("The Eureka test server jar '" + jar + "' is missing: build it with "
          + "./mvnw -B package -pl pilot/eureka-test-server (the reactor builds it before pilot/registry)");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    log = Files.createDirectories(Path.of("target")).resolve("eureka-test-server.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    eureka = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar, "--server.port=" + port,
        "--server.address=127.0.0.1")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    base = URI.create("http://127.0.0.1:" + port);
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (true) {
      if (!eureka.isAlive()) {
        throw new IllegalStateException("the Eureka test server exited with " + eureka.exitValue() + ": "
            + Files.readString(log));
      }
      try {
        if (send("GET", "/eureka/apps", null) == 200) {
          break;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the Eureka test server did not answer within 180 s: " + Files.readString(log));
      }
      Thread.sleep(250);
    }
  }

  @AfterAll
  static void stopEureka() throws InterruptedException {
    if (eureka != null) {
      eureka.destroy();
      if (!eureka.waitFor(20, TimeUnit.SECONDS)) {
        eureka.destroyForcibly();
      }
    }
  }

  private static int send(String method, String path, String json) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).header("Accept", "application/json");
    if (json == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json, UTF_8));
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static int register(String app, String id, String ip, int port, int leaseSeconds, String version)
      throws Exception {
    return send("POST", "/eureka/apps/" + app, """
        {"instance": {"instanceId": "%s", "hostName": "reviews.eureka.local", "app": "%s", "ipAddr": "%s",
          "status": "UP", "port": {"$": %d, "@enabled": "true"}, "securePort": {"$": 8443, "@enabled": "false"},
          "dataCenterInfo": {"@class": "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name": "MyOwn"},
          "leaseInfo": {"renewalIntervalInSecs": 1, "durationInSecs": %d},
          "metadata": {"istio.protocol": "http", "version": "%s"}}}
        """.formatted(id, app, ip, port, leaseSeconds, version));
  }

  private static List<String> addresses(ServiceRegistry r) {
    return r.instances("reviews.eureka.local", Set.of(), LabelsCollection.ALL).stream()
        .map(i -> i.endpoint().address() + " " + i.labels())
        .toList();
  }

  @Test
  void followsRegisterRenewStatusExpiryAndCancel() throws Exception {
    try (AggregateRegistry all = Registries.open("eureka://127.0.0.1:" + base.getPort() + "?interval=200ms&timeout=2s",
        "cluster.local")) {
      ServiceRegistry r = all.registries().get(0);
      assertThat(r).isInstanceOf(EurekaRegistry.class);
      all.start();
      await(r::hasSynced);
      assertThat(((EurekaRegistry) r).status()).containsEntry("state", "OK");

      assertThat(register("REVIEWS", "reviews-1", "10.0.0.1", 9080, 30, "v1")).isEqualTo(204);
      await(() -> addresses(r).equals(List.of("10.0.0.1 version=v1")));
      assertThat(r.service("reviews.eureka.local").orElseThrow().ports())
          .containsExactly(new Port("9080", 9080, Protocol.HTTP));
      ServiceInstance one = r.instances("reviews.eureka.local", Set.of("9080"),
          LabelsCollection.of(Labels.of("version", "v1"))).get(0);
      assertThat(one.endpoint().port()).isEqualTo(9080);

      // A second instance in another application with the same hostName joins the same service.
      assertThat(register("REVIEWS-V2", "reviews-2", "10.0.0.2", 9080, 30, "v2")).isEqualTo(204);
      await(() -> addresses(r).equals(List.of("10.0.0.1 version=v1", "10.0.0.2 version=v2")));

      // Renewed instances stay; one registered with a 1 s lease and never renewed expires.
      assertThat(register("REVIEWS", "reviews-3", "10.0.0.3", 9080, 1, "v3")).isEqualTo(204);
      await(() -> addresses(r).contains("10.0.0.3 version=v3"));
      ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor();
      try {
        renewer.scheduleWithFixedDelay(() -> {
          try {
            send("PUT", "/eureka/apps/REVIEWS/reviews-1", null);
            send("PUT", "/eureka/apps/REVIEWS-V2/reviews-2", null);
          } catch (IOException | InterruptedException e) {
            // the next round retries
          }
        }, 0, 500, TimeUnit.MILLISECONDS);
        assertThat(send("PUT", "/eureka/apps/REVIEWS/reviews-1", null)).isEqualTo(200);
        await(() -> !addresses(r).contains("10.0.0.3 version=v3"));
        assertThat(addresses(r)).containsExactly("10.0.0.1 version=v1", "10.0.0.2 version=v2");

        // OUT_OF_SERVICE is not UP: the instance leaves, and comes back when UP again.
        assertThat(send("PUT", "/eureka/apps/REVIEWS-V2/reviews-2/status?value=OUT_OF_SERVICE", null)).isEqualTo(200);
        await(() -> addresses(r).equals(List.of("10.0.0.1 version=v1")));
        assertThat(send("DELETE", "/eureka/apps/REVIEWS-V2/reviews-2/status?value=UP", null)).isEqualTo(200);
        await(() -> addresses(r).size() == 2);

        // Cancelled: gone; the last one cancelled takes the service with it.
        assertThat(send("DELETE", "/eureka/apps/REVIEWS-V2/reviews-2", null)).isEqualTo(200);
        await(() -> addresses(r).equals(List.of("10.0.0.1 version=v1")));
        assertThat(send("DELETE", "/eureka/apps/REVIEWS/reviews-1", null)).isEqualTo(200);
        await(() -> r.service("reviews.eureka.local").isEmpty());
      } finally {
        renewer.shutdownNow();
      }

      // Eureka goes away: the registry keeps what it knew and says it is stale.
      assertThat(register("REVIEWS", "reviews-4", "10.0.0.4", 9080, 30, "v4")).isEqualTo(204);
      await(() -> addresses(r).equals(List.of("10.0.0.4 version=v4")));
      stopEureka();
      EurekaRegistry e = (EurekaRegistry) r;
      await(() -> !e.reachable());
      assertThat(addresses(r)).containsExactly("10.0.0.4 version=v4");
      assertThat(e.status()).containsEntry("state", "STALE");
      assertThat(e.syncErrors()).isPositive();
    }
  }
}
