package io.istio4j.pilot.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starts {@code bin/pilot-discovery discovery} as an operator would, on the quickstart example (copied,
 * so the test can edit it), and talks to it over ADS and its monitoring port.
 */
class PilotDiscoveryProcessIT {

  static final Path ROOT = findRoot();
  static final String PRODUCTPAGE =
      "sidecar~10.1.1.1~productpage-v1-6f9d8c7b5-x2x7k.default~default.svc.cluster.local";

  @TempDir
  Path dir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void servesTheQuickstartPushesEditsKeepsTheLastGoodRuleAndStopsCleanlyOnSigterm() throws Exception {
    Path registry = copy(ROOT.resolve("examples/pilot-quickstart/registry"), dir.resolve("registry"));
    Path config = copy(ROOT.resolve("examples/pilot-quickstart/config"), dir.resolve("config"));
    int grpc = freePort();
    int monitoring = freePort();
    Path log = dir.resolve("pilot.log");
    Process pilot = new ProcessBuilder(ROOT.resolve("bin/pilot-discovery").toString(), "discovery",
        "--grpcPort", String.valueOf(grpc), "--monitoringPort", String.valueOf(monitoring),
        "--registries", "file://" + registry, "--configStoreURL", "fs://" + config, "--shutdownGracePeriod", "1s")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + grpc, InsecureChannelCredentials.create()).build();
    try {
      awaitReady(monitoring, pilot, log);
      assertThat(get(monitoring, "/readyz")).startsWith("200 ready: ");
      assertThat(get(monitoring, "/debug/registryz")).contains("reviews.default.svc.cluster.local")
          .contains("10.1.4.3").contains("\"version\" : \"v3\"");

      try (AdsClient ads = new AdsClient(channel, AdsClient.node(PRODUCTPAGE, "productpage"), Duration.ofSeconds(20))) {
        DiscoveryResponse clusters = ads.fetch(AdsClient.CLUSTER, List.of());
        assertThat(json(clusters)).contains("reviews.default.svc.cluster.local");
        List<String> eds = AdsClient.edsNames(clusters);
        assertThat(eds).isNotEmpty();
        DiscoveryResponse endpoints = ads.fetch(AdsClient.ENDPOINT, eds);
        assertThat(json(endpoints)).contains("10.1.4.1").contains("10.1.3.1");
        DiscoveryResponse listeners = ads.fetch(AdsClient.LISTENER, List.of());
        List<String> rds = AdsClient.rdsNames(listeners);
        assertThat(rds).isNotEmpty();
        DiscoveryResponse routes = ads.fetch(AdsClient.ROUTE, rds);
        String before = json(routes);
        assertThat(before).contains("reviews.default.svc.cluster.local").contains("user=jason");

        // The client shows on /debug/adsz with its node.
        assertThat(get(monitoring, "/debug/adsz")).contains(PRODUCTPAGE);

        // An edit is pushed: reviews' default goes to v3.
        write(config.resolve("route-rule-all-v1.yaml"), Files.readString(config.resolve("route-rule-all-v1.yaml"))
            .replace("name: reviews\n  precedence: 1\n  route:\n  - labels:\n      version: v1",
                "name: reviews\n  precedence: 1\n  route:\n  - labels:\n      version: v3"));
        String edited = awaitRoutesChange(ads, rds, before);
        assertThat(edited).contains("v3");

        // A broken edit is refused: the last valid version stays (no push), and /debug/configz says why.
        write(config.resolve("route-rule-reviews-test-v2.yaml"),
            Files.readString(config.resolve("route-rule-reviews-test-v2.yaml")).replace("version: v2", "version: v2\n    weight: 150"));
        String configz = awaitContains(monitoring, "/debug/configz", "weight");
        assertThat(configz).contains("route-rule/default/reviews-test-v2").contains("\"error\"");
        assertThat(get(monitoring, "/metrics")).contains("pilot_config_objects{kind=\"route-rule\",state=\"stale\"} 1.0");
        assertThat(get(monitoring, "/readyz")).startsWith("200 ");
      }
      // A proxy connecting now gets the kept version: jason still goes to v2.
      try (AdsClient late = new AdsClient(channel, AdsClient.node(PRODUCTPAGE, "productpage"), Duration.ofSeconds(20))) {
        late.fetch(AdsClient.CLUSTER, List.of());
        List<String> rds = AdsClient.rdsNames(late.fetch(AdsClient.LISTENER, List.of()));
        assertThat(json(late.fetch(AdsClient.ROUTE, rds))).contains("user=jason").contains("version=v2");
      }

      String dump = run(ROOT.resolve("bin/pilot-discovery").toString(), "dump", "--server", "127.0.0.1:" + grpc,
          "--node", PRODUCTPAGE, "--type", "clusters");
      assertThat(dump).contains("\"clusters\"").contains("reviews.default.svc.cluster.local");

      assertThat(get(monitoring, "/metrics")).contains("pilot_services{").contains("pilot_xds ");

      // SIGTERM with a proxy still connected: its stream gets the grace period, then is cancelled so it
      // reconnects elsewhere, and Pilot exits 0.
      try (AdsClient connected = new AdsClient(channel, AdsClient.node(PRODUCTPAGE, "productpage"), Duration.ofSeconds(20))) {
        connected.fetch(AdsClient.CLUSTER, List.of());
        assertThat(get(monitoring, "/metrics")).contains("pilot_xds 1.0");
        pilot.destroy(); // SIGTERM
        assertThat(pilot.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
      }
      assertThat(pilot.exitValue()).as(Files.readString(log)).isZero();
      assertThat(Files.readString(log)).contains("shutting down")
          .contains("ADS streams still open after the grace period").contains("stopped");
    } finally {
      channel.shutdownNow();
      pilot.destroyForcibly();
    }
  }

  @Test
  void validateExitsZeroForTheQuickstartAndOneWithEveryProblemListed() throws Exception {
    Process ok = new ProcessBuilder(ROOT.resolve("bin/pilot-discovery").toString(), "validate",
        ROOT.resolve("examples/pilot-quickstart/config").toString()).redirectErrorStream(true).start();
    String okOut = new String(ok.getInputStream().readAllBytes(), UTF_8);
    assertThat(ok.waitFor()).as(okOut).isZero();

    Path bad = copy(ROOT.resolve("examples/pilot-quickstart/config"), dir.resolve("bad"));
    write(bad.resolve("weights.yaml"), """
        apiVersion: config.istio.io/v1alpha2
        kind: RouteRule
        metadata: {name: bad-weights}
        spec:
          destination: {name: reviews}
          route:
          - labels: {version: v1}
            weight: 150
        """);
    write(bad.resolve("policy.yaml"), """
        apiVersion: config.istio.io/v1alpha2
        kind: DestinationPolicy
        metadata: {name: bad-policy}
        spec:
          destination: {name: reviews}
          loadBalancing: {name: SOMETIMES}
        """);
    Process invalid = new ProcessBuilder(ROOT.resolve("bin/pilot-discovery").toString(), "validate", bad.toString())
        .start();
    String out = new String(invalid.getInputStream().readAllBytes(), UTF_8);
    assertThat(invalid.waitFor()).as(out).isEqualTo(1);
    assertThat(out).contains("weights.yaml").contains("bad-weights").contains("policy.yaml").contains("bad-policy");

    Process missing = new ProcessBuilder(ROOT.resolve("bin/pilot-discovery").toString(), "validate",
        dir.resolve("nowhere").toString()).redirectErrorStream(true).start();
    missing.getInputStream().readAllBytes();
    assertThat(missing.waitFor()).isEqualTo(2);
  }

  private String awaitRoutesChange(AdsClient ads, List<String> rds, String before) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      String now = json(ads.awaitPush(AdsClient.ROUTE, rds, Duration.ofSeconds(30)));
      if (!now.equals(before)) {
        return now;
      }
    }
    throw new AssertionError("routes did not change within 30 s");
  }

  private String awaitContains(int port, String path, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String body = "";
    while (System.nanoTime() < deadline) {
      body = get(port, path);
      if (body.contains(text)) {
        return body;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " never contained '" + text + "': " + body);
  }

  private static String json(DiscoveryResponse r) throws Exception {
    StringBuilder b = new StringBuilder(r.getVersionInfo());
    ResourceJson json = new ResourceJson();
    b.append(json.array(r.getResourcesList()));
    return b.toString();
  }

  private void awaitReady(int monitoring, Process pilot, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      assertThat(pilot.isAlive()).as("pilot exited:\n" + Files.readString(log)).isTrue();
      try {
        if (get(monitoring, "/readyz").startsWith("200")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not ready within 60 s:\n" + Files.readString(log));
  }

  private String get(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out;
  }

  /** Writes through a temporary file and a rename, so a watcher never reads half a file. */
  static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.list(from)) {
      s.forEach(files::add);
    }
    for (Path f : files) {
      Files.copy(f, to.resolve(f.getFileName()));
    }
    return to;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("bin/pilot-discovery"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("cannot find the repository root (bin/pilot-discovery) above " + Path.of("").toAbsolutePath());
    }
    return p;
  }
}
