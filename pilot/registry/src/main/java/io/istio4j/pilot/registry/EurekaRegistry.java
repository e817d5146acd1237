package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services from a Eureka server ({@code eureka://host:port}), polled as Istio 0.2 did: {@code GET
 * <server>/eureka/v2/apps} with {@code Accept: application/json} every two seconds, converted by
 * {@link EurekaConversion}. Events fire only for the hostnames whose service or instances changed
 * between two polls. When the server cannot be read (down, slow, an error status, a body that is not
 * Eureka's JSON or is larger than {@code maxBytes}) the last services are kept, the failure is
 * counted and shown, and polling goes on.
 *
 * <p>The apps path: upstream used the Netflix WAR layout ({@code /eureka/v2/apps}); Spring Cloud's
 * server and Eureka 1.x standalone servers serve {@code /eureka/apps}. Without a path in the spec
 * the registry tries {@code /eureka/v2/apps}, then {@code /eureka/apps} when the first answers 404,
 * and keeps the first that answers; {@code eureka://host:port/PATH} uses {@code PATH/apps}.
 */
public final class EurekaRegistry extends RemoteRegistry {
  private static final Logger log = LoggerFactory.getLogger(EurekaRegistry.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> DETECTED_PATHS = List.of("/eureka/v2/apps", "/eureka/apps");
  private static final int MAX_PROBLEMS_SHOWN = 20;

  /**
   * Where and how to poll.
   *
   * @param server {@code http://host:port}
   * @param basePath the path before {@code /apps} (e.g. {@code /eureka}), or null to detect it
   * @param interval the pause between the end of one poll and the start of the next (upstream: 2s)
   * @param timeout how long one poll may take, headers and body (upstream: 30s)
   * @param syncTimeout how long to wait for a first successful poll before reporting synced anyway;
   *     zero waits forever (see {@link RemoteRegistry})
   * @param maxBytes a larger response is rejected (the last services are kept)
   */
  public record Options(URI server, @Nullable String basePath, Duration interval, Duration timeout, Duration syncTimeout,
      long maxBytes) {
    /** Upstream's poll period. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);
    /** Upstream's HTTP timeout. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    /** How long Pilot waits for a first answer before serving without this registry's services. */
    public static final Duration DEFAULT_SYNC_TIMEOUT = Duration.ofSeconds(60);
    /** 64 MiB: about 100,000 instances of Spring's verbose JSON. */
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    public Options {
      requireNonNull(server, "server");
      requireNonNull(interval, "interval");
      requireNonNull(timeout, "timeout");
      requireNonNull(syncTimeout, "syncTimeout");
      if (interval.toMillis() < 10 || timeout.toMillis() < 10 || syncTimeout.isNegative() || maxBytes < 1) {
        throw new IllegalArgumentException("eureka registry " + server + ": interval " + interval + ", timeout "
            + timeout + ", syncTimeout " + syncTimeout + ", maxBytes " + maxBytes
            + " (expected: interval and timeout at least 10ms, syncTimeout 0 or more, maxBytes more than 0)");
      }
    }

    /** Upstream's settings for this server, detecting the path. */
    public static Options of(URI server) {
      return new Options(server, null, DEFAULT_INTERVAL, DEFAULT_TIMEOUT, DEFAULT_SYNC_TIMEOUT, DEFAULT_MAX_BYTES);
    }
  }

  private final Options options;
  private final HttpClient http;
  // Owned by the loop thread.
  private @Nullable String appsPath;
  private int candidate;
  private Set<String> problems = Set.of();
  private volatile List<String> shownProblems = List.of();
  private volatile @Nullable String usedPath;

  /** A registry polling {@code options.server()}; nothing is sent before {@link #start()}. */
  public EurekaRegistry(Options options) {
    super("eureka:" + options.server().getRawAuthority() + (options.basePath() == null ? "" : options.basePath()),
        options.syncTimeout(), log);
    this.options = options;
    this.appsPath = options.basePath() == null ? null : options.basePath() + "/apps";
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(options.timeout().compareTo(Duration.ofSeconds(10)) < 0 ? options.timeout() : Duration.ofSeconds(10))
        .build();
  }

  @Override
  protected void begin() {
    log.info("Eureka registry: polling {}{} every {} ms", options.server(),
        appsPath == null ? " (/eureka/v2/apps, else /eureka/apps)" : appsPath, options.interval().toMillis());
    poll();
  }

  private void poll() {
    String path = appsPath != null ? appsPath : DETECTED_PATHS.get(candidate);
    URI uri = options.server().resolve(path);
    HttpRequest request = HttpRequest.newBuilder(uri)
        .header("Accept", "application/json")
        .timeout(options.timeout())
        .GET()
        .build();
    BoundedBody body = new BoundedBody(options.maxBytes());
    requestSent();
    http.sendAsync(request, body)
        .orTimeout(options.timeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenCompleteAsync((response, error) -> {
          if (error != null) {
            body.abort(); // a body still trickling in: close the connection
          }
          boolean retryNow = false;
          try {
            retryNow = handle(uri, path, response, error);
          } catch (RuntimeException e) {
            failed("GET " + uri + ": " + e);
            log.error("{}: poll failed", name(), e);
          }
          schedule(retryNow ? Duration.ZERO : options.interval());
        }, loop);
  }

  private void schedule(Duration delay) {
    try {
      loop.schedule(this::poll, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  // True to poll again at once (the next candidate path).
  private boolean handle(URI uri, String path, HttpResponse<byte[]> response, Throwable error) {
    if (error != null) {
      failed("GET " + uri + ": " + describe(error));
      return false;
    }
    int status = response.statusCode();
    if (status == 404 && appsPath == null) {
      candidate = (candidate + 1) % DETECTED_PATHS.size();
      if (candidate != 0) {
        log.info("{}: {} answers 404; trying {}", name(), uri, DETECTED_PATHS.get(candidate));
        return true;
      }
      failed("GET " + uri + ": HTTP 404 on every known path " + DETECTED_PATHS
          + " (expected a Eureka server; give the path as eureka://HOST:PORT/PATH)");
      return false;
    }
    if (status != 200) {
      failed("GET " + uri + ": HTTP " + status + " (expected 200)");
      return false;
    }
    JsonNode root;
    try {
      root = JSON.readTree(response.body());
    } catch (JsonProcessingException e) {
      failed("GET " + uri + ": the body is not JSON: " + e.getOriginalMessage());
      return false;
    } catch (IOException e) {
      failed("GET " + uri + ": cannot read the body: " + e);
      return false;
    }
    EurekaConversion.Result result;
    try {
      result = EurekaConversion.convert(root == null ? JSON.createObjectNode() : root);
    } catch (EurekaConversion.FormatException e) {
      failed("GET " + uri + ": " + e.getMessage());
      return false;
    }
    if (appsPath == null) {
      appsPath = path;
      log.info("{}: using {}", name(), uri);
    }
    usedPath = path;
    succeeded();
    reportProblems(result.problems());
    replace(result.hosts());
    markSynced();
    return false;
  }

  private void reportProblems(List<String> now) {
    Set<String> current = new HashSet<>(now);
    for (String p : now) {
      if (!problems.contains(p)) {
        log.warn("{}: {}", name(), p);
      }
    }
    problems = current;
    shownProblems = List.copyOf(now.subList(0, Math.min(now.size(), MAX_PROBLEMS_SHOWN)));
  }

  static String describe(Throwable error) {
    Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    if (e instanceof TimeoutException || e instanceof HttpTimeoutException) {
      return "no complete answer within the timeout (" + e.getClass().getSimpleName() + ")";
    }
    if (e instanceof BoundedBody.TooLargeException) {
      return e.getMessage();
    }
    if (e instanceof ConnectException) {
      return "cannot connect (" + e + ")";
    }
    return e.toString();
  }

  @Override
  protected void details(Map<String, Object> out) {
    out.put("server", options.server().toString());
    String p = usedPath;
    out.put("appsPath", p != null ? p : options.basePath() == null ? "detecting (/eureka/v2/apps, /eureka/apps)"
        : options.basePath() + "/apps");
    out.put("intervalMs", options.interval().toMillis());
    out.put("timeoutMs", options.timeout().toMillis());
    out.put("maxBytes", options.maxBytes());
    List<String> shown = new ArrayList<>(shownProblems);
    if (!shown.isEmpty()) {
      out.put("skipped", shown);
    }
  }
}
