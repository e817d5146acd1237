package io.istio4j.mixer.client;

import static io.istio4j.mixer.client.MixsProcessIT.ROOT;
import static io.istio4j.mixer.client.MixsProcessIT.awaitReady;
import static io.istio4j.mixer.client.MixsProcessIT.freePort;
import static io.istio4j.mixer.client.MixsProcessIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The prometheus adapter end to end, as an operator runs it: {@code bin/mixs} with a prometheus
 * handler, reports sent with {@code bin/mixc}, and a real Prometheus server (the Debian package)
 * scraping the adapter and answering a query for {@code istio_request_count}, the name Istio
 * 0.2's dashboards use.
 */
class PrometheusEndToEndIT {

  static final int REPORTS = 7;

  static String config(int adapterPort) {
    return """
        apiVersion: "config.istio.io/v1alpha2"
        kind: prometheus
        metadata:
          name: handler
          namespace: istio-system
        spec:
          port: %d
          metrics:
          - name: request_count
            instance_name: requestcount.metric.istio-system
            kind: COUNTER
            label_names:
            - source_service
            - source_version
            - destination_service
            - destination_version
            - response_code
        ---
        apiVersion: "config.istio.io/v1alpha2"
        kind: metric
        metadata:
          name: requestcount
          namespace: istio-system
        spec:
          value: "1"
          dimensions:
            source_service: source.service | "unknown"
            source_version: source.labels["version"] | "unknown"
            destination_service: destination.service | "unknown"
            destination_version: destination.labels["version"] | "unknown"
            response_code: response.code | 200
          monitored_resource_type: '"UNSPECIFIED"'
        ---
        apiVersion: "config.istio.io/v1alpha2"
        kind: rule
        metadata:
          name: promhttp
          namespace: istio-system
          labels:
            istio-protocol: http
        spec:
          actions:
          - handler: handler.prometheus
            instances:
            - requestcount.metric
        """.formatted(adapterPort);
  }

  @Test
  void prometheusScrapesIstioRequestCountFromTheAdapter() throws Exception {
    assertThat(PrometheusProcess.findOnPath("prometheus"))
        .as("the prometheus binary is not on the PATH; " + PrometheusProcess.INSTALL_HINT)
        .isNotNull();

    Path work = Files.createTempDirectory("prometheus-e2e");
    Path configDir = Files.createDirectories(work.resolve("config"));
    Files.copy(ROOT.resolve("examples/quickstart/attributes.yaml"), configDir.resolve("attributes.yaml"));
    int adapterPort = freePort();
    Files.writeString(configDir.resolve("prometheus.yaml"), config(adapterPort));

    int mixerPort = freePort();
    int monitoringPort = freePort();
    Path mixsLog = work.resolve("mixs.log");
    Process mixs = new ProcessBuilder(ROOT.resolve("bin/mixs").toString(), "server",
        "--configStoreURL=fs://" + configDir, "--port", String.valueOf(mixerPort),
        "--monitoringPort", String.valueOf(monitoringPort))
        .redirectErrorStream(true).redirectOutput(mixsLog.toFile()).start();
    PrometheusProcess prometheus = null;
    try {
      awaitReady(monitoringPort, mixs, mixsLog);

      MixsProcessIT.Result report = run("bin/mixc", "report", "-m", "localhost:" + mixerPort,
          "-s", "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local",
          "-i", "response.code=200",
          "--stringmap_attributes", "source.labels=version:v2,destination.labels=version:v1",
          "-r", String.valueOf(REPORTS));
      assertThat(report.exit()).as(report.out()).isZero();
      assertThat(report.out()).contains("Report RPC returned OK");

      String series = "istio_request_count{destination_service=\"ratings.default.svc.cluster.local\","
          + "destination_version=\"v1\",response_code=\"200\",source_service=\"reviews.default.svc.cluster.local\","
          + "source_version=\"v2\"} " + REPORTS + "\n";
      HttpResponse<String> scraped = get(adapterPort, "/metrics");
      assertThat(scraped.body()).as("the adapter's /metrics; mixs log:\n%s", Files.readString(mixsLog))
          .contains("# TYPE istio_request_count counter\n" + series);

      prometheus = PrometheusProcess.start(work, Map.of("istio-mesh", "localhost:" + adapterPort));

      JsonNode sample = prometheus.awaitSample("istio_request_count", String.valueOf(REPORTS));
      Map<String, String> labels = new TreeMap<>();
      sample.get("metric").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
      assertThat(labels).containsExactlyEntriesOf(new TreeMap<>(Map.of(
          "__name__", "istio_request_count",
          "job", "istio-mesh",
          "instance", "localhost:" + adapterPort,
          "destination_service", "ratings.default.svc.cluster.local",
          "destination_version", "v1",
          "response_code", "200",
          "source_service", "reviews.default.svc.cluster.local",
          "source_version", "v2")));

      // Prometheus knows it as a counter, and no _total series exists.
      JsonNode metadata = prometheus.get("/api/v1/metadata?metric=istio_request_count");
      assertThat(metadata.at("/data/istio_request_count/0/type").asText()).isEqualTo("counter");
      JsonNode total = prometheus.query("{__name__=~\"istio_request_count_.+\"}");
      assertThat(total.at("/data/result")).isEmpty();

      prometheus.close();
      mixs.destroy();
      assertThat(mixs.waitFor(20, TimeUnit.SECONDS)).isTrue();
      assertThat(mixs.exitValue()).as(Files.readString(mixsLog)).isZero();
    } finally {
      if (prometheus != null) {
        prometheus.close();
      }
      mixs.destroyForcibly();
      mixs.waitFor(10, TimeUnit.SECONDS);
      deleteRecursively(work);
    }
  }

  static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
