package io.istio4j.testing.zipkin;

import static java.util.Objects.requireNonNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * A real Zipkin server for tests: the {@code io.zipkin:zipkin-server} exec jar (the version the root
 * POM names) started as its own JVM on a free port with in-memory storage, ready once {@code
 * /health} answers, stopped by {@link #close()}. The jar is taken from the local Maven repository
 * this module was built with (depend on {@code istio4j-zipkin-testing} with test scope; building it
 * resolves the jar), or from the {@code zipkin.server.jar} system property.
 *
 * <pre>{@code
 * try (ZipkinServer zipkin = ZipkinServer.start()) {
 *   MixerServer mixs = MixerServer.start(options, new TracingOptions(zipkin.spansUrl(), 1.0f));
 *   ...
 *   List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, spans -> spans.size() >= 3, Duration.ofSeconds(10));
 * }
 * }</pre>
 */
public final class ZipkinServer implements AutoCloseable {

  /** How long start-up may take (about 5 s here; CI machines are slower). */
  public static final Duration START_TIMEOUT = Duration.ofSeconds(90);

  private final Process process;
  private final int port;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private ZipkinServer(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts Zipkin on a free port and waits until it is healthy. */
  public static ZipkinServer start() throws IOException, InterruptedException {
    Path jar = jar();
    int port = freePort();
    Path log = Files.createTempFile("zipkin-server-", ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
        "-jar", jar.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().put("QUERY_PORT", Integer.toString(port));
    pb.environment().put("STORAGE_TYPE", "mem");
    pb.environment().put("JAVA_OPTS", "");
    ZipkinServer server = new ZipkinServer(pb.start(), port, log);
    try {
      server.awaitHealthy();
    } catch (IOException | InterruptedException | RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** The exec jar: {@code -Dzipkin.server.jar}, else the local repository this module was built with. */
  static Path jar() throws IOException {
    String explicit = System.getProperty("zipkin.server.jar");
    if (explicit != null && !explicit.isBlank()) {
      Path p = Path.of(explicit);
      if (!Files.isRegularFile(p)) {
        throw new IOException("zipkin.server.jar: " + p + " (expected: the zipkin-server exec jar)");
      }
      return p;
    }
    Properties build = new Properties();
    try (InputStream in = ZipkinServer.class.getResourceAsStream("zipkin-server.properties")) {
      requireNonNull(in, "zipkin-server.properties is missing from istio4j-zipkin-testing");
      build.load(in);
    }
    String version = build.getProperty("version");
    List<Path> tried = new ArrayList<>();
    for (String repo : new String[] {System.getProperty("maven.repo.local"), build.getProperty("localRepository"),
        Path.of(System.getProperty("user.home"), ".m2", "repository").toString()}) {
      if (repo == null || repo.isBlank() || repo.startsWith("${")) {
        continue;
      }
      Path p = Path.of(repo, "io", "zipkin", "zipkin-server", version, "zipkin-server-" + version + "-exec.jar");
      if (Files.isRegularFile(p)) {
        return p;
      }
      tried.add(p);
    }
    throw new IOException("the Zipkin server jar is not in the local Maven repository (looked at " + tried
        + "); fetch it with ./mvnw dependency:get -Dartifact=io.zipkin:zipkin-server:" + version
        + ":jar:exec, or pass -Dzipkin.server.jar=PATH");
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void awaitHealthy() throws IOException, InterruptedException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("Zipkin exited with " + process.exitValue() + " before it was healthy; its log:\n"
            + logTail());
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new IOException("Zipkin was not healthy within " + START_TIMEOUT + "; its log:\n" + logTail());
  }

  /** The last part of Zipkin's output, for failure messages. */
  public String logTail() {
    try {
      String text = Files.readString(log, StandardCharsets.UTF_8);
      return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /** The port Zipkin serves on. */
  public int port() {
    return port;
  }

  /** {@code http://127.0.0.1:PORT}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  /** Where spans are POSTed: what {@code mixs server --zipkinURL} takes. */
  public String spansUrl() {
    return baseUrl() + "/api/v2/spans";
  }

  /** {@code GET /api/v2/trace/{traceId}}: the trace's spans, empty when Zipkin has none. */
  public List<ZipkinSpan> trace(String traceId) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/api/v2/trace/" + traceId))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 404) {
      return List.of();
    }
    if (r.statusCode() != 200) {
      throw new IOException("GET /api/v2/trace/" + traceId + ": HTTP " + r.statusCode() + " " + r.body());
    }
    return parse(r.body());
  }

  /**
   * Polls the trace until {@code done} holds (Mixer's reporter sends within about a second) and
   * returns it; when the timeout passes, returns what Zipkin has, for the test's assertion to show.
   */
  public List<ZipkinSpan> awaitTrace(String traceId, Predicate<List<ZipkinSpan>> done, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ZipkinSpan> spans = trace(traceId);
    while (!done.test(spans) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      spans = trace(traceId);
    }
    return spans;
  }

  static List<ZipkinSpan> parse(String json) {
    List<ZipkinSpan> spans = new ArrayList<>();
    JsonArray array = JsonParser.parseString(json).getAsJsonArray();
    for (JsonElement e : array) {
      JsonObject o = e.getAsJsonObject();
      Map<String, String> tags = new LinkedHashMap<>();
      if (o.has("tags")) {
        for (Map.Entry<String, JsonElement> t : o.getAsJsonObject("tags").entrySet()) {
          tags.put(t.getKey(), t.getValue().getAsString());
        }
      }
      String service = o.has("localEndpoint") && o.getAsJsonObject("localEndpoint").has("serviceName")
          ? o.getAsJsonObject("localEndpoint").get("serviceName").getAsString() : null;
      spans.add(new ZipkinSpan(o.get("traceId").getAsString(), o.get("id").getAsString(), text(o, "parentId"),
          o.has("name") ? o.get("name").getAsString() : "", text(o, "kind"), service, tags));
    }
    return spans;
  }

  private static @Nullable String text(JsonObject o, String field) {
    return o.has(field) ? o.get(field).getAsString() : null;
  }

  /** Stops Zipkin (and waits for it to exit) and deletes its log. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    try {
      Files.deleteIfExists(log);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
