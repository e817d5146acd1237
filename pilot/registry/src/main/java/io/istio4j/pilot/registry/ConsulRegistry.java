package io.istio4j.pilot.registry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services from a Consul agent or server ({@code consul://host:port}) through Consul's blocking
 * queries: one watch on {@code GET /v1/catalog/services} and one per service on {@code GET
 * /v1/health/service/NAME} (or {@code /v1/catalog/service/NAME} with {@code health=false}, as Istio
 * 0.2 read it), each sending {@code ?index=N&wait=W} with the last {@code X-Consul-Index} it saw, so
 * a request is answered only when that part of the catalog changed or {@code wait} passed. An idle
 * mesh costs one request per watch per {@code wait}, not a poll every two seconds as upstream did.
 * Converted by {@link ConsulConversion}.
 *
 * <p>Blocking-query rules from Consul's documentation: an answer with the same index is a timeout
 * (nothing is read); an index lower than the last one (a restored snapshot, another cluster) resets
 * the watch to 0, so the next request reads afresh; an index below 1 counts as 1; requests of one
 * watch are spaced by at least {@code minInterval}; failures back off from {@code retry} to
 * {@code maxRetry}, and so do answers with an unchanged index that come back long before
 * {@code wait} (a server or proxy that does not hold requests), so nothing can make a watch spin;
 * after a failure the next request does not block, so a server that is back is seen at once.
 * Unreachable, slow, garbage or oversized answers keep the last view.
 */
public final class ConsulRegistry extends RemoteRegistry {
  private static final Logger log = LoggerFactory.getLogger(ConsulRegistry.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration MAX_WAIT = Duration.ofMinutes(10);

  /**
   * Where and how to watch.
   *
   * @param server {@code http://host:port}
   * @param health true to read {@code /v1/health/service/NAME} and drop critical instances; false
   *     for upstream's {@code /v1/catalog/service/NAME} (every registered instance)
   * @param blockingWait the {@code wait} of blocking queries (Consul's default and ours: 5m; at most 10m)
   * @param timeout how long a non-blocking request may take
   * @param minInterval the least time between two requests of one watch (Consul asks clients to rate limit)
   * @param retry the first pause after a failure, doubled per failure up to {@code maxRetry}
   * @param maxRetry the longest pause after failures
   * @param syncTimeout how long to wait for a first complete read before reporting synced anyway
   * @param maxBytes a larger response is rejected (the last view is kept)
   */
  public record Options(URI server, boolean health, Duration blockingWait, Duration timeout, Duration minInterval,
      Duration retry, Duration maxRetry, Duration syncTimeout, long maxBytes) {
    public Options {
      requireNonNull(server, "server");
      requireNonNull(blockingWait, "blockingWait");
      requireNonNull(timeout, "timeout");
      requireNonNull(minInterval, "minInterval");
      requireNonNull(retry, "retry");
      requireNonNull(maxRetry, "maxRetry");
      requireNonNull(syncTimeout, "syncTimeout");
      if (blockingWait.toMillis() < 1000 || blockingWait.compareTo(MAX_WAIT) > 0) {
        throw new IllegalArgumentException("consul registry " + server + ": wait " + blockingWait + " (expected: 1s to 10m)");
      }
      if (timeout.toMillis() < 10 || retry.toMillis() < 1 || maxRetry.compareTo(retry) < 0 || minInterval.isNegative()
          || syncTimeout.isNegative() || maxBytes < 1) {
        throw new IllegalArgumentException("consul registry " + server + ": timeout " + timeout + ", retry " + retry
            + ", maxRetry " + maxRetry + ", minInterval " + minInterval + ", syncTimeout " + syncTimeout + ", maxBytes "
            + maxBytes + " (expected: timeout at least 10ms, 0 < retry <= maxRetry, the rest 0 or more, maxBytes > 0)");
      }
    }

    /** Health on, wait 5m, timeout 30s, 100ms between requests, retries 1s to 30s, sync timeout 60s, 64 MiB. */
    public static Options of(URI server) {
      return new Options(server, true, Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMillis(100),
          Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60), 64L << 20);
    }
  }

  private interface Reader {
    void read(JsonNode body, List<String> problems) throws ConsulConversion.FormatException;
  }

  /** One blocking query, re-sent after every answer; all of it runs on the loop thread. */
  private final class Watch {
    final String path;
    final Reader reader;
    long index;
    boolean cancelled;
    long lastStart = Long.MIN_VALUE / 2;
    int failures;
    int earlyAnswers;
    @Nullable BoundedBody inFlight;

    Watch(String path, Reader reader) {
      this.path = path;
      this.reader = reader;
    }

    void send() {
      if (cancelled) {
        return;
      }
      long now = System.nanoTime();
      long earliest = lastStart + options.minInterval().toNanos();
      if (now < earliest) {
        schedule(this::send, Duration.ofNanos(earliest - now));
        return;
      }
      lastStart = now;
      boolean blocking = index > 0;
      String query = blocking ? "?index=" + index + "&wait=" + options.blockingWait().toSeconds() + "s" : "";
      URI uri = options.server().resolve(path + query);
      // Consul adds up to wait/16 of jitter to a blocking query's wait.
      Duration timeout = blocking
          ? options.blockingWait().plus(options.blockingWait().dividedBy(16)).plus(options.timeout())
          : options.timeout();
      HttpRequest request = HttpRequest.newBuilder(uri).header("Accept", "application/json").timeout(timeout).GET().build();
      BoundedBody body = new BoundedBody(options.maxBytes());
      inFlight = body;
      requestSent();
      http.sendAsync(request, body)
          .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .whenCompleteAsync((response, error) -> {
            inFlight = null;
            if (error != null) {
              body.abort();
            }
            if (cancelled) {
              return;
            }
            try {
              answered(uri, response, error);
            } catch (RuntimeException e) {
              fail(uri + ": " + e);
              log.error("{}: watch {} failed", name(), path, e);
            }
          }, loop);
    }

    private void answered(URI uri, HttpResponse<byte[]> response, Throwable error) {
      if (error != null) {
        fail("GET " + uri + ": " + EurekaRegistry.describe(error));
        return;
      }
      if (response.statusCode() != 200) {
        fail("GET " + uri + ": HTTP " + response.statusCode() + " (expected 200)");
        return;
      }
      OptionalLong header = parseIndex(response.headers().firstValue("X-Consul-Index").orElse(""));
      if (header.isEmpty()) {
        fail("GET " + uri + ": no valid X-Consul-Index header (expected a Consul server)");
        return;
      }
      long next = Math.max(1, header.getAsLong());
      if (index > 0 && next == index) {
        ok(); // the wait passed with no change
        if (System.nanoTime() - lastStart < options.blockingWait().toNanos() / 2) {
          // Unchanged long before the wait passed: not Consul's blocking behaviour (a proxy that
          // does not hold requests, a misbehaving server). Back off as after a failure rather than spin.
          earlyAnswers++;
          schedule(this::send, backoff(earlyAnswers));
          return;
        }
        earlyAnswers = 0;
        send();
        return;
      }
      earlyAnswers = 0;
      JsonNode root;
      List<String> problems = new ArrayList<>();
      try {
        root = JSON.readTree(response.body());
        if (root == null) {
          throw new ConsulConversion.FormatException("the body is empty");
        }
        reader.read(root, problems);
      } catch (JsonProcessingException e) {
        fail("GET " + uri + ": the body is not JSON: " + e.getOriginalMessage());
        return;
      } catch (IOException e) {
        fail("GET " + uri + ": cannot read the body: " + e);
        return;
      } catch (ConsulConversion.FormatException e) {
        fail("GET " + uri + ": " + e.getMessage());
        return;
      }
      reportProblems(path, problems);
      if (index > 0 && next < index) {
        // Consul: an index that goes backwards means the data was reset; read afresh.
        log.info("{}: {} index went back from {} to {}; resetting the watch", name(), path, index, next);
        resets++;
        index = 0;
      } else {
        index = next;
      }
      ok();
      send();
    }

    private void ok() {
      failures = 0;
      failing.remove(this);
      if (failing.isEmpty()) {
        succeeded(); // reachable only when no watch is failing
      }
    }

    private void fail(String message) {
      failing.add(this);
      failed(message);
      // The next request reads without blocking: it answers at once, so a server that is back is
      // known to be back (and its data read) without waiting for the next change.
      index = 0;
      failures++;
      schedule(this::send, backoff(failures));
    }

    private Duration backoff(int attempts) {
      long ms = options.retry().toMillis() << Math.min(attempts - 1, 20);
      return Duration.ofMillis(Math.min(ms, options.maxRetry().toMillis()));
    }

    void cancel() {
      cancelled = true;
      failing.remove(this);
      BoundedBody b = inFlight;
      if (b != null) {
        b.abort();
      }
    }
  }

  private final Options options;
  private final HttpClient http;
  // Owned by the loop thread.
  private @Nullable Watch catalog;
  private boolean catalogRead;
  private final Map<String, Watch> watches = new HashMap<>();
  private final Map<String, RemoteRegistry.Host> known = new HashMap<>();
  private final Set<String> awaitingFirstAnswer = new HashSet<>();
  private final Set<Watch> failing = new HashSet<>();
  private final Map<String, Set<String>> problemsByWatch = new HashMap<>();
  private long resets;
  private volatile int watchCount;
  private volatile long indexResets;
  private volatile List<String> shownProblems = List.of();

  /** A registry watching {@code options.server()}; nothing is sent before {@link #start()}. */
  public ConsulRegistry(Options options) {
    super("consul:" + options.server().getRawAuthority(), options.syncTimeout(), log);
    this.options = options;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(options.timeout().compareTo(Duration.ofSeconds(10)) < 0 ? options.timeout() : Duration.ofSeconds(10))
        .build();
  }

  @Override
  protected void begin() {
    log.info("Consul registry: watching {} (catalog and {} per service, wait {} s)", options.server(),
        options.health() ? "/v1/health/service" : "/v1/catalog/service", options.blockingWait().toSeconds());
    catalog = new Watch("/v1/catalog/services", this::catalogChanged);
    catalog.send();
  }

  private void catalogChanged(JsonNode body, List<String> problems) throws ConsulConversion.FormatException {
    List<String> names = ConsulConversion.serviceNames(body, problems);
    Set<String> wanted = new HashSet<>(names);
    for (var it = watches.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Watch> e = it.next();
      if (!wanted.contains(e.getKey())) {
        e.getValue().cancel();
        it.remove();
        known.remove(e.getKey());
        awaitingFirstAnswer.remove(e.getKey());
        problemsByWatch.remove(e.getValue().path);
      }
    }
    List<Watch> started = new ArrayList<>();
    for (String name : names) {
      if (!watches.containsKey(name)) {
        String path = (options.health() ? "/v1/health/service/" : "/v1/catalog/service/")
            + URLEncoder.encode(name, UTF_8).replace("+", "%20");
        Watch w = new Watch(path, (b, p) -> serviceChanged(name, b, p));
        watches.put(name, w);
        awaitingFirstAnswer.add(name);
        started.add(w);
      }
    }
    watchCount = watches.size() + 1;
    catalogRead = true;
    publish();
    for (Watch w : started) {
      w.send();
    }
  }

  private void serviceChanged(String name, JsonNode body, List<String> problems) throws ConsulConversion.FormatException {
    if (!watches.containsKey(name)) {
      return;
    }
    List<ConsulConversion.Entry> entries = ConsulConversion.entries(body, name, problems);
    known.put(name, ConsulConversion.host(name, entries, problems));
    awaitingFirstAnswer.remove(name);
    publish();
  }

  private void publish() {
    Map<String, RemoteRegistry.Host> next = new TreeMap<>();
    for (RemoteRegistry.Host h : known.values()) {
      next.put(h.service().hostname(), h);
    }
    replace(next);
    indexResets = resets;
    if (catalogRead && awaitingFirstAnswer.isEmpty()) {
      markSynced();
    }
  }

  private void reportProblems(String path, List<String> now) {
    Set<String> before = problemsByWatch.getOrDefault(path, Set.of());
    for (String p : now) {
      if (!before.contains(p)) {
        log.warn("{}: {}", name(), p);
      }
    }
    if (now.isEmpty()) {
      problemsByWatch.remove(path);
    } else {
      problemsByWatch.put(path, new HashSet<>(now));
    }
    List<String> shown = new ArrayList<>();
    for (Set<String> s : problemsByWatch.values()) {
      for (String p : s) {
        if (shown.size() < 20) {
          shown.add(p);
        }
      }
    }
    shownProblems = List.copyOf(shown);
  }

  private void schedule(Runnable task, Duration delay) {
    try {
      loop.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  static OptionalLong parseIndex(String value) {
    try {
      if (value.isEmpty()) {
        return OptionalLong.empty();
      }
      long v = Long.parseUnsignedLong(value.trim());
      return OptionalLong.of(v < 0 ? Long.MAX_VALUE : v); // uint64 beyond Long.MAX_VALUE
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  @Override
  protected void details(Map<String, Object> out) {
    out.put("server", options.server().toString());
    out.put("instancesFrom", options.health() ? "/v1/health/service (critical dropped)" : "/v1/catalog/service");
    out.put("waitSeconds", options.blockingWait().toSeconds());
    out.put("watches", watchCount);
    out.put("indexResets", indexResets);
    List<String> shown = shownProblems;
    if (!shown.isEmpty()) {
      out.put("skipped", shown);
    }
  }

  @Override
  public void close() {
    try {
      loop.submit(() -> {
        if (catalog != null) {
          catalog.cancel();
        }
        watches.values().forEach(Watch::cancel);
      }).get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      log.debug("{}: cancelling watches on close: {}", name(), e.toString()); // closing anyway
    }
    super.close();
  }
}
