package io.istio4j.mixer.client;

import static io.istio4j.mixer.client.MixsProcessIT.freePort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) for tests: scrapes the given
 * jobs every second, listens on a free port of 127.0.0.1, answers queries through its HTTP API.
 * Shared by the ITs that check what Prometheus makes of Mixer's metrics.
 */
final class PrometheusProcess implements AutoCloseable {

  static final String INSTALL_HINT = "install it: apt-get install -y prometheus";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Process process;
  private final Path log;
  private final int port;

  private PrometheusProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /**
   * Starts Prometheus with its data and log in {@code work}, scraping {@code jobs} (job name to
   * {@code host:port}) every second.
   *
   * @throws AssertionError when the binary is not installed, saying how to install it
   */
  static PrometheusProcess start(Path work, Map<String, String> jobs) throws IOException {
    String binary = findOnPath("prometheus");
    if (binary == null) {
      throw new AssertionError("the prometheus binary is not on the PATH; " + INSTALL_HINT);
    }
    StringBuilder config = new StringBuilder("""
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
        """);
    jobs.forEach((job, target) -> config.append("""
        - job_name: %s
          scrape_interval: 1s
          static_configs:
          - targets: ['%s']
        """.formatted(job, target)));
    Path file = work.resolve("prometheus.yml");
    Files.writeString(file, config);
    int port = freePort();
    Path log = work.resolve("prometheus.log");
    Process p = new ProcessBuilder(binary, "--config.file=" + file, "--storage.tsdb.path=" + work.resolve("tsdb"),
        "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new PrometheusProcess(p, log, port);
  }

  int port() {
    return port;
  }

  String log() throws IOException {
    return Files.readString(log);
  }

  /** {@code /api/v1/query} of {@code promql}: the whole answer; an HTTP error (a parse error: 400) throws. */
  JsonNode query(String promql) throws IOException, InterruptedException {
    return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
  }

  /** GET of {@code pathAndQuery}, as JSON; a status other than 200 throws with the body. */
  JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
    return query(port, pathAndQuery);
  }

  /** Queries until the instant vector of {@code promql} satisfies {@code done} (60 s at most). */
  JsonNode await(String promql, Predicate<JsonNode> done, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("prometheus exited early:\n" + log());
      }
      try {
        last = query(promql);
        if (done.test(last.at("/data/result"))) {
          return last.at("/data/result");
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(250);
    }
    throw new AssertionError("Prometheus did not report " + what + " (" + promql + ") within 60s; last answer: "
        + last + "\nprometheus log:\n" + log());
  }

  /** Queries until the instant vector of {@code promql} holds one sample with {@code value}. */
  JsonNode awaitSample(String promql, String value) throws Exception {
    return await(promql, r -> r.size() == 1 && r.get(0).at("/value/1").asText().equals(value), promql + " = " + value)
        .get(0);
  }

  /** Stops Prometheus and waits for it to exit. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  static JsonNode query(int port, String pathAndQuery) throws IOException, InterruptedException {
    HttpResponse<String> r = HTTP.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("HTTP " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body());
  }

  static String findOnPath(String name) {
    String path = System.getenv("PATH");
    for (String dir : (path == null ? "" : path).split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate.toString();
      }
    }
    Path debian = Path.of("/usr/bin", name);
    return Files.isExecutable(debian) ? debian.toString() : null;
  }
}
