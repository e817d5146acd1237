package io.istio4j.mixer.server;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.istio4j.http.HttpResponse;
import io.istio4j.http.HttpServer;
import io.istio4j.mixer.runtime.Readiness;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The self-monitoring HTTP endpoint (upstream's port 9093): {@code /metrics} in Prometheus text
 * format, {@code /healthz} (the process is up), {@code /readyz} (config is loaded and the gRPC
 * server serves; the body says why or why not), {@code /version}, {@code /debug/config} (every config object, its state and error).
 *
 * <p>Served by {@link HttpServer}: {@code /healthz}, {@code /readyz} and {@code /version} answer on
 * the I/O thread (their suppliers must be cheap and never block), so they stay prompt while a
 * large {@code /metrics} or {@code /debug/config} renders on a handler thread.
 */
final class MonitoringServer implements AutoCloseable {

  private final HttpServer.Builder builder;
  private HttpServer server;

  MonitoringServer(String address, int port, PrometheusRegistry registry, Supplier<Readiness> readiness,
      Supplier<String> debugConfig) {
    PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    byte[] version = bytes("{\"name\":\"istio4j-mixs\",\"version\":\"" + BuildInfo.version() + "\"}\n");
    builder = HttpServer.builder("monitoring")
        .address(address, port, "--monitoringPort")
        .route("/metrics", request -> {
          ByteArrayOutputStream body = new ByteArrayOutputStream(16384);
          writer.write(body, registry.scrape(), EscapingScheme.DEFAULT);
          return HttpResponse.of(200, writer.getContentType(), body.toByteArray());
        })
        .fastRoute("/healthz", request -> HttpResponse.text(200, "ok\n"))
        .fastRoute("/readyz", request -> {
          Readiness r = readiness.get();
          return HttpResponse.text(r.ready() ? 200 : 503, (r.ready() ? "ready: " : "not ready: ") + r.reason() + "\n");
        })
        .route("/debug/config", request -> HttpResponse.of(200, "application/json", bytes(debugConfig.get())))
        .fastRoute("/version", request -> HttpResponse.of(200, "application/json", version));
  }

  /** A shorter read timeout than {@link HttpServer.Builder#DEFAULT_READ_TIMEOUT}, for tests. */
  MonitoringServer readTimeout(Duration timeout) {
    builder.readTimeout(timeout);
    return this;
  }

  /**
   * Starts listening.
   *
   * @throws IOException naming the address and {@code --monitoringPort} when it cannot listen
   */
  void start() throws IOException {
    server = builder.start();
  }

  int port() {
    return server.port();
  }

  InetSocketAddress address() {
    return server.address();
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
