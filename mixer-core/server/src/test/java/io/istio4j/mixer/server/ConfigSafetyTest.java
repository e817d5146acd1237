package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.runtime.Readiness;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.MixerGrpc;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Config mistakes against a live mixs never open the gates, and strict mode refuses them outright. */
class ConfigSafetyTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static int check(ManagedChannel ch, String user) {
    return MixerGrpc.newBlockingStub(ch).check(CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(
            Map.of("destination.service", "ratings.default.svc.cluster.local", "source.user", user), 167))
        .setGlobalWordCount(167)
        .build()).getPrecondition().getStatus().getCode();
  }

  private static String get(MixerServer server, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.monitoringPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Waits (polling the page, at most 10 s) until /debug/config shows what {@code until} wants. */
  private static String awaitStatus(MixerServer server, Predicate<String> until) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    String status = get(server, "/debug/config");
    while (!until.test(status) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      status = get(server, "/debug/config");
    }
    return status;
  }

  @Test
  void brokenEditsOfAFileWithADenyRuleNeverStopTheDenials(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("attributes.yaml"), ConfigReloadTest.MANIFEST);
    Path policy = dir.resolve("policy.yaml");
    String good = ConfigReloadTest.policy("go away");
    Files.writeString(policy, good);
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir))) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        assertThat(check(ch, "mallory")).isEqualTo(7);

        // A typo in the rule's match: the rule's last good version keeps denying.
        Files.writeString(policy, good.replace("source.user ==", "source.usr =="));
        String status = awaitStatus(server, s -> s.contains("\"state\" : \"stale\""));
        assertThat(status).contains("\"name\" : \"nomallory.rule.istio-system\"", "\"state\" : \"stale\"",
            "\"error\" : \"unknown attribute source.usr\"", "\"live\" : {");
        assertThat(check(ch, "mallory")).isEqualTo(7);

        // A YAML syntax error: every object of the file stays.
        Files.writeString(policy, good.replace("metadata: {name: nomallory,", "metadata: {name: nomallory"));
        status = awaitStatus(server, s -> s.contains("not valid YAML"));
        assertThat(status).contains("\"name\" : \"policy.yaml\"", "policy.yaml:");
        assertThat(check(ch, "mallory")).isEqualTo(7);

        // Half a file, left there: valid YAML that lost the rule; it goes live only once stable,
        // and then deletes what it no longer holds (a deletion applies).
        Files.writeString(policy, good.substring(0, good.indexOf("kind: rule")));
        awaitStatus(server, s -> !s.contains("nomallory"));
        assertThat(check(ch, "mallory")).isZero();

        Files.writeString(policy, good);
        awaitStatus(server, s -> s.contains("nomallory") && !s.contains("stale") && !s.contains("rejected\""));
        assertThat(check(ch, "mallory")).isEqualTo(7);
        // Counted once per distinct rejection (the typo, then the file), not on every reload.
        assertThat(get(server, "/metrics")).contains("mixer_config_rejections_total{kind=\"rule\"} 2.0");
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private static int mixs(ByteArrayOutputStream err, String... args) {
    PrintStream original = System.err;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      return new CommandLine(new Mixs()).execute(args);
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void strictModeRefusesToStartWhileAnyObjectIsRejectedAndListsThem(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("attributes.yaml"), ConfigReloadTest.MANIFEST);
    Files.writeString(dir.resolve("policy.yaml"),
        ConfigReloadTest.policy("go away").replace("source.user ==", "source.usr =="));
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = mixs(err, "server", "--configStrict", "--configStoreURL", "fs://" + dir, "-p", "0",
        "--monitoringPort", "0");
    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains(
        "mixs: --configStrict: 1 config object(s) rejected; not starting until the config is fixed:\n"
            + "  nomallory.rule.istio-system (policy.yaml#3): spec.match: unknown attribute source.usr\n");

    Files.writeString(dir.resolve("policy.yaml"), ConfigReloadTest.policy("go away"));
    assertThat(mixs(new ByteArrayOutputStream(), "server", "--configStrict", "--configStoreURL", "fs://" + dir,
        "-p", "0", "--monitoringPort", "0", "--exitWhenReady")).isZero();
  }

  @Test
  void withoutAConfigStoreMixsWarnsThatEveryRequestIsAllowed() throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream original = System.err;
    MixerServer server;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      server = MixerServer.start(ServerOptions.ephemeral());
    } finally {
      System.setErr(original);
    }
    try (server) {
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("WARN", "no config store is set (--configStoreURL): "
          + "no rule applies and every request is allowed");
      assertThat(get(server, "/readyz"))
          .isEqualTo("ready: no config store is set (--configStoreURL): every request is allowed\n");
    }
  }

  @Test
  void validateTakesAnFsUrlAndNeverBuildsHandlers(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("attributes.yaml"), ConfigReloadTest.MANIFEST);
    Files.writeString(dir.resolve("policy.yaml"), ConfigReloadTest.policy("go away"));
    int builds = TestDenyAdapter.BUILDS.get();
    assertThat(mixs(new ByteArrayOutputStream(), "validate", "fs://" + dir)).isZero();
    assertThat(mixs(new ByteArrayOutputStream(), "validate", dir.toString())).isZero();
    assertThat(TestDenyAdapter.BUILDS.get()).as("validation builds no handler").isEqualTo(builds);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertThat(mixs(err, "validate", "fs://" + dir.resolve("missing"))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("is not a directory");
  }

  @Test
  void validateNeverTouchesTheNetwork(@TempDir Path dir) throws Exception {
    // Listening, never accepting: a connection attempt would complete into the backlog and show.
    try (ServerSocketChannel listProvider = listening(); ServerSocketChannel redis = listening()) {
      Files.writeString(dir.resolve("attributes.yaml"), ConfigReloadTest.MANIFEST);
      Files.writeString(dir.resolve("network.yaml"), """
          apiVersion: config.istio.io/v1alpha2
          kind: listchecker
          metadata: {name: blocked, namespace: istio-system}
          spec: {providerUrl: "http://127.0.0.1:%d/list", blacklist: true}
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: listentry
          metadata: {name: user, namespace: istio-system}
          spec: {value: source.user | ""}
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: redisquota
          metadata: {name: limits, namespace: istio-system}
          spec:
            redisServerUrl: "127.0.0.1:%d"
            quotas: [{name: requestcount.quota.istio-system, maxAmount: 5, validDuration: 1s}]
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: quota
          metadata: {name: requestcount, namespace: istio-system}
          spec: {dimensions: {destination: destination.service | "unknown"}}
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: rule
          metadata: {name: guarded, namespace: istio-system}
          spec:
            actions:
            - {handler: blocked.listchecker, instances: [user.listentry]}
            - {handler: limits.redisquota, instances: [requestcount.quota]}
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: listchecker
          metadata: {name: unused, namespace: istio-system}
          spec: {providerUrl: "http://127.0.0.1:%d/other"}
          """.formatted(port(listProvider), port(redis), port(listProvider)));
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      assertThat(mixs(err, "validate", dir.toString())).as(err.toString(StandardCharsets.UTF_8)).isZero();
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("0 problem(s)");
      assertThat(listProvider.accept()).as("a connection to the list provider").isNull();
      assertThat(redis.accept()).as("a connection to Redis").isNull();
    }
  }

  private static ServerSocketChannel listening() throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open();
    channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    channel.configureBlocking(false); // accept() answers null when no connection is waiting
    return channel;
  }

  private static int port(ServerSocketChannel channel) throws IOException {
    return ((InetSocketAddress) channel.getLocalAddress()).getPort();
  }

  @Test
  void readyzSaysWhyItIsNotReady() throws Exception {
    try (MonitoringServer monitoring = new MonitoringServer("127.0.0.1", 0, new PrometheusRegistry(),
        () -> Readiness.notReady("--configStrict: the config has 1 rejected object(s)"),
        () -> "{}")) {
      monitoring.start();
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
          URI.create("http://localhost:" + monitoring.port() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.body()).isEqualTo("not ready: --configStrict: the config has 1 rejected object(s)\n");
    }
  }
}
