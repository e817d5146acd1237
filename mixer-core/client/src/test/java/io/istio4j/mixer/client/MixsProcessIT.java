package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Starts {@code bin/mixs} as a process and talks to it with {@code bin/mixc}, as an operator would. */
class MixsProcessIT {

  static final Path ROOT = findRoot();

  @Test
  void mixcTalksToAMixsProcessWhichStopsCleanlyOnSigterm() throws Exception {
    int port = freePort();
    int monitoring = freePort();
    Path log = Files.createTempFile("mixs", ".log");
    Process mixs = new ProcessBuilder(ROOT.resolve("bin/mixs").toString(), "server",
        "--port", String.valueOf(port), "--monitoringPort", String.valueOf(monitoring),
        "--configStoreURL", "fs://" + ROOT.resolve("examples/quickstart"))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      awaitReady(monitoring, mixs, log);

      // examples/quickstart: reviews may call ratings (list), within a rate limit (memquota) ...
      Result check = run("bin/mixc", "check", "-m", "localhost:" + port,
          "-s", "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local",
          "-q", "RequestCount=2");
      assertThat(check.exit()).as(check.out()).isZero();
      assertThat(check.out()).contains("Check status was OK")
          .contains("Valid use count: 10000, valid duration: 1m0s")
          .contains("Quota 'RequestCount': granted 2");
      // ... details may not (list) ...
      Result notListed = run("bin/mixc", "check", "-m", "localhost:" + port,
          "-s", "destination.service=ratings.default.svc.cluster.local,source.service=details.default.svc.cluster.local");
      assertThat(notListed.out()).contains("Check status was NOT_FOUND "
          + "(ratingscallers.listchecker.istio-system:details.default.svc.cluster.local is not whitelisted)");
      // ... and mallory may call nothing (denier).
      Result denied = run("bin/mixc", "check", "-m", "localhost:" + port,
          "-s", "destination.service=reviews.default.svc.cluster.local",
          "--stringmap_attributes", "request.headers=x-user:mallory");
      assertThat(denied.out()).contains("Check status was PERMISSION_DENIED (handler.denier.istio-system:Not allowed)");

      Result report = run("bin/mixc", "report", "-m", "localhost:" + port,
          "-s", "destination.service=ratings.default.svc.cluster.local,request.method=GET", "-i", "response.code=200",
          "-t", "request.time=2017-11-21T10:15:30Z");
      assertThat(report.exit()).as(report.out()).isZero();
      assertThat(report.out()).contains("Report RPC returned OK");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.readString(log).contains("\"instance\":\"accesslog.logentry.istio-system\"")
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(Files.readString(log)).as("stdio access log line")
          .contains("\"instance\":\"accesslog.logentry.istio-system\"").contains("\"method\":\"GET\"");

      // The README's load example: attributes the quickstart's rules allow, so no answer is an error.
      Result load = run("bin/mixc", "load", "-m", "localhost:" + port, "--target", "check",
          "--duration", "3s", "--warmup", "500ms", "--concurrency", "8",
          "-s", "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local");
      assertThat(load.exit()).as(load.out()).isZero();
      assertThat(load.out()).contains("\"errors\":0").doesNotContain("\"ok\":0,");
      assertThat(Files.readString(ROOT.resolve("README.md")))
          .contains("-s destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local  # requests/s");
      // Without the identity attribute every Check answers INTERNAL: counted as errors, exit 1.
      Result noIdentity = run("bin/mixc", "load", "-m", "localhost:" + port, "--duration", "300ms", "--warmup", "0s");
      assertThat(noIdentity.exit()).as(noIdentity.out()).isEqualTo(1);
      assertThat(noIdentity.out()).contains("INTERNAL (destination.service identity not found in attributes[])")
          .contains("\"ok\":0,");

      String metrics = http(monitoring, "/metrics").body();
      assertThat(metrics).contains("grpc_method=\"Check\"").contains("grpc_method=\"Report\"");

      mixs.destroy(); // SIGTERM
      assertThat(mixs.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(mixs.exitValue()).as(Files.readString(log)).isZero();
      assertThat(Files.readString(log)).contains("shutting down").contains("stopped");
    } finally {
      mixs.destroyForcibly();
    }
  }

  /**
   * SIGTERM while Reports are arriving: every Report answered OK has its access log line in the file
   * once mixs has exited, because shutdown runs each handler's close (the stdio writer drains its
   * buffer and flushes) before the threads stop.
   */
  @Test
  void everyReportedAccessLogLineIsInTheFileAfterSigterm() throws Exception {
    int port = freePort();
    int monitoring = freePort();
    Path dir = Files.createTempDirectory("mixs-accesslog");
    Path config = Files.createDirectories(dir.resolve("config"));
    Path accessLog = dir.resolve("access.log");
    Files.copy(ROOT.resolve("examples/quickstart/attributes.yaml"), config.resolve("attributes.yaml"));
    Files.writeString(config.resolve("accesslog.yaml"), """
        apiVersion: config.istio.io/v1alpha2
        kind: stdio
        metadata: {name: file, namespace: istio-system}
        spec: {logStream: FILE, outputPath: "%s", outputAsJson: true, bufferSize: 10000000}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: logentry
        metadata: {name: accesslog, namespace: istio-system}
        spec:
          severity: '"Default"'
          timestamp: request.time
          variables: {url: request.path | ""}
          monitored_resource_type: '"UNSPECIFIED"'
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: accesslog, namespace: istio-system}
        spec:
          actions: [{handler: file.stdio, instances: [accesslog.logentry]}]
        """.formatted(accessLog));
    Path log = dir.resolve("mixs.log");
    Process mixs = new ProcessBuilder(ROOT.resolve("bin/mixs").toString(), "server",
        "--port", String.valueOf(port), "--monitoringPort", String.valueOf(monitoring),
        "--configStoreURL", "fs://" + config, "--allowedOutputDir", dir.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Process load = null;
    try {
      awaitReady(monitoring, mixs, log);
      load = new ProcessBuilder(ROOT.resolve("bin/mixc").toString(), "load", "-m", "localhost:" + port,
          "--target", "report", "--duration", "8s", "--warmup", "0s", "--concurrency", "2",
          "-s", "destination.service=ratings.default.svc.cluster.local,request.path=/ratings",
          "-t", "request.time=2017-11-21T10:15:30Z")
          .redirectErrorStream(true).redirectOutput(dir.resolve("load.out").toFile()).start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      // More than mixc's first, unmeasured call: the load is under way.
      while (lines(accessLog) < 100 && load.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(lines(accessLog)).as("Reports are arriving\n" + Files.readString(log)).isGreaterThanOrEqualTo(100);

      mixs.destroy(); // SIGTERM, mid-load
      assertThat(mixs.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(mixs.exitValue()).as(Files.readString(log)).isZero();
      assertThat(load.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String out = Files.readString(dir.resolve("load.out"));
      Matcher ok = Pattern.compile("\"ok\":(\\d+),").matcher(out);
      assertThat(ok.find()).as(out).isTrue();
      long answered = Long.parseLong(ok.group(1));
      assertThat(answered).as(out).isPositive();
      assertThat(lines(accessLog)).as("a line for every Report answered OK").isGreaterThanOrEqualTo(answered);
      assertThat(Files.readString(accessLog)).endsWith("\n");
    } finally {
      mixs.destroyForcibly();
      if (load != null) {
        load.destroyForcibly();
      }
    }
  }

  private static long lines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return 0;
    }
    try (Stream<String> lines = Files.lines(file)) {
      return lines.filter(l -> l.contains("\"instance\":\"accesslog.logentry.istio-system\"")).count();
    }
  }

  /** User errors get one line naming the problem and an exit code: never a stack trace, never a hang. */
  @Test
  void mixcExplainsUserErrorsWithoutStackTraces() throws Exception {
    Result unknownHost = run("bin/mixc", "check", "-m", "no-such-host.invalid:9091");
    assertThat(unknownHost.exit()).as(unknownHost.out()).isEqualTo(3);
    assertThat(unknownHost.out()).contains("UNAVAILABLE").contains("no-such-host.invalid:9091");

    Result badPort = run("bin/mixc", "check", "-m", "localhost:99999");
    assertThat(badPort.exit()).as(badPort.out()).isEqualTo(2);
    assertThat(badPort.out()).contains("localhost:99999").contains("1-65535");

    Result refused = run("bin/mixc", "load", "-m", "localhost:" + freePort(), "--duration", "30s");
    assertThat(refused.exit()).as(refused.out()).isEqualTo(3);
    assertThat(refused.out()).contains("Connection refused");

    Result missingFile = run("bin/mixc", "expr", "/no/such/file.jsonl");
    assertThat(missingFile.exit()).as(missingFile.out()).isEqualTo(2);
    assertThat(missingFile.out()).contains("cannot read /no/such/file.jsonl: no such file");

    Result badAttribute = run("bin/mixc", "report", "-m", "localhost:9", "-t", "request.time=yesterday");
    assertThat(badAttribute.exit()).as(badAttribute.out()).isEqualTo(2);
    assertThat(badAttribute.out()).contains("--timestamp_attributes: request.time=yesterday");

    for (Result r : List.of(unknownHost, badPort, refused, missingFile, badAttribute)) {
      assertThat(r.out()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }
  }

  @Test
  void launchersExplainHowToBuildWhenJarsAreMissing() throws Exception {
    Path fakeRoot = Files.createTempDirectory("istio4j");
    Files.createDirectories(fakeRoot.resolve("bin"));
    for (String name : List.of("mixs", "mixc")) {
      Files.copy(ROOT.resolve("bin/" + name), fakeRoot.resolve("bin/" + name));
      Process p = new ProcessBuilder(fakeRoot.resolve("bin/" + name).toString(), "--help")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).isEqualTo(127);
      assertThat(out).contains(name + " is not built yet").contains("./mvnw -q -DskipTests package");
    }
  }

  record Result(int exit, String out) {}

  static Result run(String... cmd) throws IOException, InterruptedException {
    cmd[0] = ROOT.resolve(cmd[0]).toString();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out);
  }

  static void awaitReady(int monitoring, Process mixs, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!mixs.isAlive()) {
        throw new AssertionError("mixs exited early:\n" + Files.readString(log));
      }
      try {
        if (http(monitoring, "/readyz").statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("mixs not ready within 60s:\n" + Files.readString(log));
  }

  static HttpResponse<String> http(int port, String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static Path findRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("bin/mixs"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("cannot find the project root (a directory holding bin/mixs)");
    }
    return p;
  }
}
