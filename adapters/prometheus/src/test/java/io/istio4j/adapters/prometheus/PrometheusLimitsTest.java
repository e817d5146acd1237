package io.istio4j.adapters.prometheus;

import static io.istio4j.adapters.prometheus.PrometheusHandlerTest.COUNT;
import static io.istio4j.adapters.prometheus.PrometheusHandlerTest.counter;
import static io.istio4j.adapters.prometheus.PrometheusHandlerTest.instance;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.prometheus.config.Params;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** The prometheus adapter under hostile label values, series floods and stalled scrapers. */
class PrometheusLimitsTest {

  /** An answer that does not come within this is a failure: the endpoint is blocked. */
  private static final Duration PROMPTLY = Duration.ofSeconds(2);

  private final SharedRegistry registry = new SharedRegistry();
  private final TestEnv env = TestEnv.create();
  private final List<PrometheusHandler> handlers = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(PROMPTLY).build();

  @AfterEach
  void close() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    handlers.forEach(PrometheusHandler::close);
  }

  private PrometheusHandler handler(Params.Builder params) throws IOException {
    PrometheusBuilder b = new PrometheusBuilder(registry);
    b.setAdapterConfig(params.build());
    assertThat(b.validate().errors()).isEmpty();
    PrometheusHandler h = (PrometheusHandler) b.build(env);
    handlers.add(h);
    return h;
  }

  private HttpResponse<String> scrape() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + registry.port() + "/metrics"))
        .timeout(PROMPTLY).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void stalledConnectionsDoNotBlockMetrics() throws Exception {
    PrometheusHandler h = handler(Params.newBuilder().addMetrics(counter("c", COUNT, "s")));
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "a")));
    for (int i = 0; i < 3; i++) {
      sockets.add(new Socket("127.0.0.1", registry.port()));
      Socket half = new Socket("127.0.0.1", registry.port());
      half.getOutputStream().write("GET /metrics HTT".getBytes(US_ASCII));
      half.getOutputStream().flush();
      sockets.add(half);
    }

    HttpResponse<String> r = scrape();

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("istio_c{s=\"a\"} 1\n");
  }

  @Test
  void thirtyReportsWithOneMegabyteValuesGiveACompleteBoundedScrape() throws Exception {
    PrometheusHandler h = handler(Params.newBuilder()
        .addMetrics(counter("request_count", COUNT, "destination_service", "response_code")));
    String megabyte = "x".repeat(1 << 20);
    for (int i = 0; i < 30; i++) {
      h.handleMetric(List.of(instance(COUNT, 1L, "destination_service", "svc" + i + megabyte, "response_code", 200L)));
    }

    HttpResponse<String> r = scrape();

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-length")).hasValue(String.valueOf(r.body().getBytes(UTF_8).length));
    assertThat(r.body().length()).as("scrape size").isLessThan(30 * 400 + 200);
    assertThat(r.body()).endsWith("\n");
    assertThat(r.body().lines().filter(l -> l.startsWith("istio_request_count{"))).hasSize(30);
  }

  @Test
  void valuesSharingTheirFirstCharactersShareOneSeries() throws Exception {
    PrometheusHandler h = handler(Params.newBuilder().addMetrics(counter("c", COUNT, "s")));
    String megabyte = "y".repeat(1 << 20);
    for (int i = 0; i < 30; i++) {
      h.handleMetric(List.of(instance(COUNT, 1L, "s", megabyte + i)));
    }

    String cut = "y".repeat(256 - LabelValues.TRUNCATED.length()) + LabelValues.TRUNCATED;
    assertThat(scrape().body()).isEqualTo("# HELP istio_c c\n# TYPE istio_c counter\nistio_c{s=\"" + cut + "\"} 30\n");
    assertThat(registry.metric("istio_c").cachedKeys()).isEqualTo(1);
    assertThat(env.counterValue(PrometheusHandler.TRUNCATED_METRIC, "instance", COUNT)).isEqualTo(30);
  }

  @Test
  void labelValuesAreCutToTheConfiguredLengthCountedAndLoggedAtMostOncePerMinute() throws Exception {
    PrometheusHandler h = handler(Params.newBuilder().setMaxLabelValueLength(32)
        .addMetrics(counter("c", COUNT, "s", "code")));
    h.handleMetric(List.of(
        instance(COUNT, 1L, "s", "short", "code", 200L),
        instance(COUNT, 1L, "s", "a".repeat(32), "code", 200L),
        instance(COUNT, 1L, "s", "b".repeat(33), "code", 200L),
        instance(COUNT, 1L, "s", "\uD83D\uDE00".repeat(40), "code", 200L),
        instance(COUNT, 1L, "s", Map.of("k", "v".repeat(100)), "code", 200L)));

    String body = scrape().body();
    assertThat(body).contains("istio_c{code=\"200\",s=\"short\"} 1\n")
        .contains("istio_c{code=\"200\",s=\"" + "a".repeat(32) + "\"} 1\n")
        .contains("istio_c{code=\"200\",s=\"" + "b".repeat(18) + "...(truncated)\"} 1\n")
        // a surrogate pair is never split: 9 emoji (18 chars) and the marker
        .contains("istio_c{code=\"200\",s=\"" + "\uD83D\uDE00".repeat(9) + "...(truncated)\"} 1\n")
        .contains("istio_c{code=\"200\",s=\"map[k:" + "v".repeat(12) + "...(truncated)\"} 1\n");
    assertThat(env.counterValue(PrometheusHandler.TRUNCATED_METRIC, "instance", COUNT)).isEqualTo(3);
    assertThat(env.messages(Level.WARN)).containsExactly("prometheus: instance " + COUNT + " has a s value of 33 "
        + "characters; metric istio_c keeps its first 32 (max_label_value_length), counted in "
        + "prometheus_truncated_label_values_total (logged at most once a minute per metric)");

    h.handleMetric(List.of(instance(COUNT, 1L, "s", "c".repeat(40), "code", 200L)));
    assertThat(env.messages(Level.WARN)).hasSize(1);
    env.advance(PrometheusHandler.WARNING_PERIOD);
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "d".repeat(40), "code", 200L)));
    assertThat(env.messages(Level.WARN)).hasSize(2);
  }

  @Test
  void newSeriesBeyondTheCapAreDroppedCountedAndLoggedAtMostOncePerMinute() throws Exception {
    PrometheusHandler h = handler(Params.newBuilder().setMaxSeriesPerMetric(10)
        .addMetrics(counter("c", COUNT, "s")));
    for (int i = 0; i < 25; i++) {
      h.handleMetric(List.of(instance(COUNT, 1L, "s", "svc" + i)));
    }
    // known series keep counting; a known series under another raw key is not a new one
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "svc0")));
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "svc24")));

    String body = scrape().body();
    assertThat(body.lines().filter(l -> l.startsWith("istio_c{"))).hasSize(10);
    assertThat(body).contains("istio_c{s=\"svc0\"} 2\n").doesNotContain("svc24");
    assertThat(registry.metric("istio_c").seriesCount()).isEqualTo(10);
    assertThat(h.dropped()).isEqualTo(16);
    assertThat(env.counterValue(PrometheusHandler.DROPPED_METRIC, "instance", COUNT, "reason",
        PrometheusHandler.SERIES_LIMIT)).isEqualTo(16);
    assertThat(env.messages(Level.WARN)).containsExactly("prometheus: metric istio_c holds 10 series "
        + "(max_series_per_metric 10); dropping samples of new series from instance " + COUNT + ", counted in "
        + "prometheus_dropped_instances_total{reason=\"series_limit\"} (logged at most once a minute per metric)");

    env.advance(PrometheusHandler.WARNING_PERIOD);
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "svc99")));
    assertThat(env.messages(Level.WARN)).hasSize(2);
  }

  @Test
  void theDefaultsBoundEveryMetric() {
    assertThat(PrometheusBuilder.limits(Params.getDefaultInstance()))
        .isEqualTo(new PrometheusHandler.Limits(256, 10_000));
  }

  @Test
  void limitsOutOfRangeAreRejectedNamingTheField() {
    PrometheusBuilder b = new PrometheusBuilder(registry);
    b.setAdapterConfig(Params.newBuilder().setMaxLabelValueLength(5).setMaxSeriesPerMetric(-1)
        .addMetrics(counter("c", COUNT, "s")).build());
    assertThat(b.validate().errors()).extracting(Object::toString).containsExactly(
        "max_label_value_length: 5 (expected: 28-65536, or 0 for 256)",
        "max_series_per_metric: -1 (expected: > 0, or 0 for 10000)");
  }

  @Test
  void stalledConnectionsAreClosedAfterTheReadTimeout() throws Exception {
    SharedRegistry quick = new SharedRegistry(Duration.ofSeconds(1));
    PrometheusBuilder b = new PrometheusBuilder(quick);
    b.setAdapterConfig(Params.newBuilder().addMetrics(counter("c", COUNT, "s")).build());
    try (var h = (PrometheusHandler) b.build(env)) {
      Socket silent = new Socket("127.0.0.1", quick.port());
      sockets.add(silent);
      silent.setSoTimeout(15_000);
      int read;
      try {
        read = silent.getInputStream().read();
      } catch (SocketException reset) {
        read = -1;
      }
      assertThat(read).as("end of stream: the server closed the connection").isEqualTo(-1);
    }
  }
}
