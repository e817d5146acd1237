package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The adapter in an in-memory Mixer, with upstream's stock metrics and the documented example. */
class PrometheusScenarioTest {

  static final Path UPSTREAM = Path.of("src/test/resources/upstream");

  @AfterEach
  void everyHandlerWasClosed() {
    assertThat(SharedRegistry.INSTANCE.port()).isEqualTo(-1);
  }

  /** Upstream's handler, on a free port instead of 42422. */
  static String upstreamHandler() throws Exception {
    String yaml = Files.readString(UPSTREAM.resolve("prometheus.yaml"));
    String head = "kind: prometheus\nmetadata:\n  name: handler\n  namespace: istio-system\nspec:\n";
    assertThat(yaml).contains(head);
    return yaml.replace(head, head + "  port: 0\n");
  }

  static String upstreamConfig() throws Exception {
    return upstreamHandler() + "\n---\n" + Files.readString(UPSTREAM.resolve("metrics.yaml"))
        + "\n---\n" + Files.readString(UPSTREAM.resolve("tcpMetrics.yaml"));
  }

  static String scrape() throws Exception {
    int port = SharedRegistry.INSTANCE.port();
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** The scraped lines of the istio_ metrics: the scenario's observable state. */
  static List<String> istioLines() {
    try {
      return scrape().lines().filter(l -> l.contains("istio_")).toList();
    } catch (Exception e) {
      throw new AssertionError("scraping /metrics failed", e);
    }
  }

  static Map<String, Object> request(String source, String sourceVersion, String destination, long code,
      Duration latency, Long requestSize) {
    Map<String, Object> r = new HashMap<>();
    r.put("destination.service", destination);
    r.put("destination.labels", Map.of("version", "v1"));
    if (source != null) {
      r.put("source.service", source);
      r.put("source.labels", Map.of("version", sourceVersion));
    }
    r.put("response.code", code);
    if (latency != null) {
      r.put("response.duration", latency);
    }
    if (requestSize != null) {
      r.put("request.size", requestSize);
    }
    return r;
  }

  @Test
  void upstreamsStockMetricsMatchTheGoldenScrape() throws Exception {
    Scenario.builder()
        .adapters(new PrometheusAdapter())
        .config(upstreamConfig())
        .report(
            request("reviews.default.svc.cluster.local", "v2", "ratings.default.svc.cluster.local", 200,
                Duration.ofMillis(25), 120L),
            request("reviews.default.svc.cluster.local", "v2", "ratings.default.svc.cluster.local", 200,
                Duration.ofMillis(150), 4000L))
        .report(request(null, null, "reviews.default.svc.cluster.local", 503, Duration.ofMillis(1500), null))
        .report(request("productpage.default.svc.cluster.local", "v1", "reviews.default.svc.cluster.local", 200,
            null, 2_000_000_000L))
        .state(PrometheusScenarioTest::istioLines)
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/prometheus.json"));
  }

  @Test
  void tcpTrafficGoesToTheTcpByteCounters() throws Exception {
    try (TestMixer mixer = TestMixer.builder().adapters(new PrometheusAdapter()).config(upstreamConfig()).start()) {
      Map<String, Object> connection = new HashMap<>();
      connection.put("context.protocol", "tcp");
      connection.put("destination.service", "mongodb.default.svc.cluster.local");
      connection.put("connection.sent.bytes", 300L);
      connection.put("connection.received.bytes", 1200L);
      assertThat(mixer.report(connection, connection).error()).isNull();
      assertThat(scrape()).contains("# TYPE istio_tcp_bytes_sent counter\n"
              + "istio_tcp_bytes_sent{destination_service=\"mongodb.default.svc.cluster.local\","
              + "destination_version=\"unknown\",source_service=\"unknown\",source_version=\"unknown\"} 600\n")
          .contains("istio_tcp_bytes_received{destination_service=\"mongodb.default.svc.cluster.local\","
              + "destination_version=\"unknown\",source_service=\"unknown\",source_version=\"unknown\"} 2400\n")
          .doesNotContain("istio_request_count");
    }
  }

  @Test
  void aHandlerMissingAnEntryForABoundInstanceIsRejectedNamingIt() throws Exception {
    String withoutSize = upstreamConfig().replace("""
          - name: request_size
            instance_name: requestsize.metric.istio-system
        """, """
          - name: request_size
            instance_name: requestsize_renamed.metric.istio-system
        """);
    try (TestMixer mixer = TestMixer.builder().adapters(new PrometheusAdapter()).config(withoutSize)
        .allowRejections().start()) {
      assertThat(String.join("\n", mixer.rejected()))
          .contains("handler.prometheus.istio-system")
          .contains("metrics: no entry for instance 'requestsize.metric.istio-system', which a rule sends to this"
              + " handler (expected: an entry with instance_name 'requestsize.metric.istio-system')");
    }
  }

  @Test
  void theDocumentedExampleLoadsAndCountsRequests() throws Exception {
    String doc = Files.readString(Path.of("../../docs/adapters/prometheus.md"));
    int start = doc.indexOf("```yaml\n", doc.indexOf("## Example")) + "```yaml\n".length();
    String yaml = doc.substring(start, doc.indexOf("```", start));
    assertThat(yaml).contains("  port: 42422\n");
    yaml = yaml.replace("  port: 42422\n", "  port: 0\n");
    try (TestMixer mixer = TestMixer.builder().adapters(new PrometheusAdapter()).config(yaml).start()) {
      Map<String, Object> r = request("productpage.default.svc.cluster.local", "v1",
          "reviews.default.svc.cluster.local", 200, Duration.ofMillis(40), null);
      assertThat(mixer.report(r, r, r).error()).isNull();
      assertThat(scrape())
          .contains("istio_request_count{destination_service=\"reviews.default.svc.cluster.local\","
              + "response_code=\"200\",source_service=\"productpage.default.svc.cluster.local\"} 3\n")
          .contains("# HELP istio_request_duration Request latency in seconds\n")
          .contains("istio_request_duration_bucket{destination_service=\"reviews.default.svc.cluster.local\","
              + "response_code=\"200\",source_service=\"productpage.default.svc.cluster.local\",le=\"0.05\"} 3\n");
    }
  }
}
