package io.istio4j.mixer.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.istio4j.mixer.runtime.Readiness;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The self-monitoring HTTP endpoint (upstream's port 9093): {@code /metrics} in Prometheus text
 * format, {@code /healthz} (the process is up), {@code /readyz} (config is loaded and the gRPC
 * server serves; the body says why or why not), {@code /version}, {@code /debug/config} (every config object, its state and error).
 */
final class MonitoringServer implements AutoCloseable {

  private final HttpServer server;
  private final ExecutorService executor;

  MonitoringServer(int port, PrometheusRegistry registry, Supplier<Readiness> readiness,
      Supplier<String> debugConfig) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 16);
    executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "mixs-monitoring");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    server.createContext("/metrics", ex -> {
      ByteArrayOutputStream body = new ByteArrayOutputStream(16384);
      writer.write(body, registry.scrape(), EscapingScheme.DEFAULT);
      respond(ex, 200, writer.getContentType(), body.toByteArray());
    });
    server.createContext("/healthz", ex -> respond(ex, 200, "text/plain", bytes("ok\n")));
    server.createContext("/readyz", ex -> {
      Readiness r = readiness.get();
      respond(ex, r.ready() ? 200 : 503, "text/plain",
          bytes((r.ready() ? "ready: " : "not ready: ") + r.reason() + "\n"));
    });
    server.createContext("/debug/config", ex -> respond(ex, 200, "application/json", bytes(debugConfig.get())));
    server.createContext("/version", ex -> respond(ex, 200, "application/json",
        bytes("{\"name\":\"istio4j-mixs\",\"version\":\"" + BuildInfo.version() + "\"}\n")));
    server.createContext("/", ex -> respond(ex, 404, "text/plain",
        bytes("not found; try /metrics, /healthz, /readyz, /version, /debug/config\n")));
  }

  void start() {
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void respond(HttpExchange ex, int code, String type, byte[] body) throws IOException {
    try (ex) {
      ex.getResponseHeaders().set("Content-Type", type);
      boolean head = "HEAD".equals(ex.getRequestMethod());
      ex.sendResponseHeaders(code, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }
}
