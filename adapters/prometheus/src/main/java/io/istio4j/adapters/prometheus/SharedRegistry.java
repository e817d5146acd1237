package io.istio4j.adapters.prometheus;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.istio4j.http.HttpResponse;
import io.istio4j.http.HttpServer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one registry and the one {@code /metrics} server of the process, shared by every prometheus
 * handler as upstream's singleton builder shared them. Handlers lease what they use: the first
 * lease starts the server, the last one released stops it. A metric stays (with its counts) while
 * any live handler holds an equal {@link MetricDefinition}, so a handler rebuilt after a config
 * change (built before its predecessor is closed) keeps the counts of the metrics it did not
 * change. A lease with a different definition of a name replaces that metric alone; upstream reset
 * the whole registry instead.
 *
 * <p>The server listens on the port of the newest lease that asked for a different one (a config
 * change of {@code port} moves it); port 0 picks a free port, which {@link #port()} tells. It is an
 * {@link HttpServer}: a scrape renders on a handler thread into one buffer and is sent whole with
 * its length, and stalled or surplus connections are closed instead of blocking scrapes.
 */
final class SharedRegistry {

  /** The process-wide instance. */
  static final SharedRegistry INSTANCE = new SharedRegistry();

  private static final Logger log = LoggerFactory.getLogger(SharedRegistry.class);
  private static final Comparator<ExposedMetric> BY_NAME = Comparator.comparing(m -> m.definition().name());

  private final Map<String, ExposedMetric> metrics = new HashMap<>(); // guarded by this
  private volatile List<ExposedMetric> exposed = List.of(); // sorted by name; swapped whole
  private HttpServer server; // guarded by this
  private int serverPort; // the requested port, guarded by this
  private int leases; // guarded by this
  private final Duration readTimeout;

  SharedRegistry() {
    this(HttpServer.Builder.DEFAULT_READ_TIMEOUT);
  }

  /** A registry whose server closes connections that send no complete request within {@code readTimeout}. */
  SharedRegistry(Duration readTimeout) {
    this.readTimeout = readTimeout;
  }

  /**
   * Leases the metrics of {@code definitions} (one per name) and makes sure {@code /metrics} is
   * served on {@code port}.
   *
   * @throws IOException when the server cannot listen on {@code port}; nothing changed then
   */
  synchronized Lease acquire(int port, Collection<MetricDefinition> definitions) throws IOException {
    // Everything that can fail comes before anything changes.
    Map<String, ExposedMetric> held = new LinkedHashMap<>();
    for (MetricDefinition d : definitions) {
      ExposedMetric current = metrics.get(d.name());
      held.put(d.name(), current != null && current.definition().equals(d) ? current : new ExposedMetric(d));
    }
    if (server == null || port != serverPort) {
      HttpServer started = start(port);
      if (server != null) {
        log.info("prometheus: /metrics moves from port {} to {}", server.port(), started.port());
        server.close();
      } else {
        log.info("prometheus: serving /metrics on port {}", started.port());
      }
      server = started;
      serverPort = port;
    }
    leases++;
    for (ExposedMetric m : held.values()) {
      ExposedMetric previous = metrics.put(m.definition().name(), m);
      if (previous != null && previous != m) {
        log.info("prometheus: metric {} is redefined (was {}, now {}); its series start again",
            m.definition().name(), previous.definition(), m.definition());
      }
      m.leases++;
    }
    publish();
    return new Lease(held);
  }

  private synchronized void release(Lease lease) {
    for (ExposedMetric m : lease.metrics.values()) {
      m.leases--;
      String name = m.definition().name();
      if (m.leases == 0 && metrics.get(name) == m) {
        metrics.remove(name);
      }
    }
    publish();
    if (--leases == 0) {
      log.info("prometheus: no handler left; /metrics on port {} stops", server.port());
      server.close();
      server = null;
    }
  }

  /** The port {@code /metrics} is served on, or -1 when no handler is live. */
  synchronized int port() {
    return server == null ? -1 : server.port();
  }

  /** The exposed metric named {@code name}, or null. */
  synchronized ExposedMetric metric(String name) {
    return metrics.get(name);
  }

  /** What {@code /metrics} serves now. */
  String scrape() {
    StringBuilder out = new StringBuilder(4096);
    TextExposition.write(exposed, out);
    return out.toString();
  }

  private void publish() {
    List<ExposedMetric> sorted = new ArrayList<>(metrics.values());
    sorted.sort(BY_NAME);
    exposed = List.copyOf(sorted);
  }

  private HttpServer start(int port) throws IOException {
    return HttpServer.builder("prometheus")
        .address("", port, "adapter port")
        .readTimeout(readTimeout)
        // Rendered whole before anything is sent: a scrape is complete or a 500, never cut short.
        .route("/metrics", request -> HttpResponse.of(200, TextExposition.CONTENT_TYPE, scrape().getBytes(UTF_8)))
        .start();
  }

  /** The metrics one handler holds; closing it releases them (once). */
  final class Lease implements AutoCloseable {
    private final Map<String, ExposedMetric> metrics;
    private boolean closed; // guarded by SharedRegistry.this

    private Lease(Map<String, ExposedMetric> metrics) {
      this.metrics = metrics;
    }

    /** The metric named {@code name} this lease holds. */
    ExposedMetric metric(String name) {
      ExposedMetric m = metrics.get(name);
      if (m == null) {
        throw new IllegalArgumentException("metric: " + name + " (expected: one of " + metrics.keySet() + ")");
      }
      return m;
    }

    @Override
    public void close() {
      synchronized (SharedRegistry.this) {
        if (closed) {
          return;
        }
        closed = true;
        release(this);
      }
    }
  }
}
