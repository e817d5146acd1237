package io.istio4j.pilot.discovery;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.istio4j.http.HttpResponse;
import io.istio4j.http.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.Supplier;

/**
 * Pilot's self-monitoring HTTP endpoint ({@code --monitoringPort}, 15014 as in later Istio):
 * {@code /metrics} (Prometheus text), {@code /healthz} (the process is up), {@code /readyz} (200 once
 * every registry and the config store have synced and the xDS server serves; 503 with the reason
 * before), {@code /version}, and the JSON debug pages {@code /debug/registryz}, {@code /debug/configz},
 * {@code /debug/adsz}.
 *
 * <p>{@code /healthz}, {@code /readyz} and {@code /version} answer on the I/O thread (their suppliers
 * are cheap and never block), so they stay prompt while a large debug page renders.
 */
final class MonitoringServer implements AutoCloseable {

  private final HttpServer.Builder builder;
  private HttpServer server;

  MonitoringServer(String address, int port, PrometheusRegistry registry, Supplier<Readiness> readiness,
      DebugPages pages) {
    PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    byte[] version = bytes("{\"name\":\"istio4j-pilot-discovery\",\"version\":\"" + BuildInfo.version() + "\"}\n");
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
        .fastRoute("/version", request -> HttpResponse.of(200, "application/json", version))
        .route("/debug/registryz", request -> json(pages.registryz()))
        .route("/debug/configz", request -> json(pages.configz()))
        .route("/debug/adsz", request -> json(pages.adsz()))
        .route("/debug/certz", request -> json(pages.certz()));
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

  private static HttpResponse json(String body) {
    return HttpResponse.of(200, "application/json", bytes(body));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }
}
