package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.management.ThreadMXBean;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.prometheus.config.Params;
import io.istio4j.adapters.prometheus.config.Params.BucketsDefinition;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.istio4j.template.metric.MetricInstance;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleConsumer;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class PrometheusHandlerTest {

  static final String COUNT = "requestcount.metric.istio-system";
  static final String LATENCY = "requestduration.metric.istio-system";
  static final String INFLIGHT = "inflight.metric.istio-system";

  private final SharedRegistry registry = new SharedRegistry();
  private final TestEnv env = TestEnv.create();
  private final List<PrometheusHandler> handlers = new ArrayList<>();

  @AfterEach
  void closeHandlers() {
    handlers.forEach(PrometheusHandler::close);
    assertThat(registry.port()).isEqualTo(-1);
  }

  static MetricInfo counter(String name, String instance, String... labels) {
    return MetricInfo.newBuilder().setName(name).setInstanceName(instance).setKind(Kind.COUNTER)
        .addAllLabelNames(List.of(labels)).build();
  }

  static MetricInfo gauge(String name, String instance, String... labels) {
    return counter(name, instance, labels).toBuilder().setKind(Kind.GAUGE).build();
  }

  static MetricInfo histogram(String name, String instance, double... bounds) {
    BucketsDefinition.Explicit.Builder explicit = BucketsDefinition.Explicit.newBuilder();
    for (double b : bounds) {
      explicit.addBounds(b);
    }
    return MetricInfo.newBuilder().setName(name).setInstanceName(instance).setKind(Kind.DISTRIBUTION)
        .addLabelNames("destination_service")
        .setBuckets(BucketsDefinition.newBuilder().setExplicitBuckets(explicit)).build();
  }

  /** The value of {@code prometheus_dropped_instances} for the instance and reason. */
  private double dropped(String instance, String reason) {
    return env.counterValue(PrometheusHandler.DROPPED_METRIC, "instance", instance, "reason", reason);
  }

  PrometheusHandler handler(int port, MetricInfo... metrics) throws IOException {
    PrometheusBuilder b = new PrometheusBuilder(registry);
    b.setAdapterConfig(Params.newBuilder().setPort(port).addAllMetrics(List.of(metrics)).build());
    assertThat(b.validate().errors()).isEmpty();
    PrometheusHandler h = (PrometheusHandler) b.build(env);
    handlers.add(h);
    return h;
  }

  PrometheusHandler handler(MetricInfo... metrics) throws IOException {
    return handler(0, metrics);
  }

  static MetricInstance instance(String name, Object value, Object... dimensions) {
    Map<String, Object> dims = new LinkedHashMap<>();
    for (int i = 0; i < dimensions.length; i += 2) {
      dims.put((String) dimensions[i], dimensions[i + 1]);
    }
    return new MetricInstance(name, value, dims, "UNSPECIFIED", Map.of());
  }

  static HttpResponse<byte[]> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
    if (headers.length > 0) {
      r.headers(headers);
    }
    return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  static String scrape(int port) throws Exception {
    HttpResponse<byte[]> r = get(port, "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  @Test
  void countersAddGaugesSetAndHistogramsObserve() throws Exception {
    PrometheusHandler h = handler(
        counter("request_count", COUNT, "destination_service", "response_code"),
        gauge("inflight", INFLIGHT, "destination_service"),
        histogram("request_duration", LATENCY, 0.01, 0.1, 1));
    h.handleMetric(List.of(
        instance(COUNT, 1L, "destination_service", "ratings", "response_code", 200L),
        instance(COUNT, 1L, "destination_service", "ratings", "response_code", 200L),
        instance(COUNT, 3L, "destination_service", "reviews", "response_code", 503L),
        instance(INFLIGHT, 7L, "destination_service", "ratings"),
        instance(INFLIGHT, 4.5, "destination_service", "ratings"),
        instance(LATENCY, Duration.ofMillis(5), "destination_service", "ratings"),
        instance(LATENCY, Duration.ofMillis(250), "destination_service", "ratings"),
        instance(LATENCY, "2", "destination_service", "ratings")));

    assertThat(scrape(registry.port())).isEqualTo("""
        # HELP istio_inflight inflight
        # TYPE istio_inflight gauge
        istio_inflight{destination_service="ratings"} 4.5
        # HELP istio_request_count request_count
        # TYPE istio_request_count counter
        istio_request_count{destination_service="ratings",response_code="200"} 2
        istio_request_count{destination_service="reviews",response_code="503"} 3
        # HELP istio_request_duration request_duration
        # TYPE istio_request_duration histogram
        istio_request_duration_bucket{destination_service="ratings",le="0.01"} 1
        istio_request_duration_bucket{destination_service="ratings",le="0.1"} 1
        istio_request_duration_bucket{destination_service="ratings",le="1"} 2
        istio_request_duration_bucket{destination_service="ratings",le="+Inf"} 3
        istio_request_duration_sum{destination_service="ratings"} 2.255
        istio_request_duration_count{destination_service="ratings"} 3
        """);
    assertThat(h.dropped()).isZero();
  }

  @Test
  void labelValuesAreRenderedAsGoDid() throws Exception {
    PrometheusHandler h = handler(counter("c", COUNT, "s", "i", "b", "d", "ip", "f"));
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "a \"quoted\\\" value\n", "i", 200L, "b", true,
        "d", Duration.ofMillis(25), "ip", new byte[] {10, 0, 0, 1}, "f", 0.5)));
    assertThat(scrape(registry.port())).contains(
        "istio_c{b=\"true\",d=\"25ms\",f=\"0.5\",i=\"200\",ip=\"10.0.0.1\",s=\"a \\\"quoted\\\\\\\" value\\n\"} 1\n");
  }

  @Test
  void valuesThatAreNotNumbersAreDroppedCountedAndLoggedOnce() throws Exception {
    PrometheusHandler h = handler(counter("c", COUNT, "s"));
    h.handleMetric(List.of(
        instance(COUNT, "many", "s", "a"),
        instance(COUNT, true, "s", "a"),
        instance(COUNT, -1L, "s", "a"),
        instance(COUNT, 1L),
        instance("unknown.metric.istio-system", 1L, "s", "a"),
        instance(COUNT, "2", "s", "a")));

    assertThat(h.dropped()).isEqualTo(5);
    assertThat(dropped(COUNT, PrometheusHandler.NOT_A_NUMBER)).isEqualTo(2);
    assertThat(dropped(COUNT, PrometheusHandler.NEGATIVE_INCREMENT)).isEqualTo(1);
    assertThat(dropped(COUNT, PrometheusHandler.MISSING_DIMENSION)).isEqualTo(1);
    assertThat(dropped("unknown.metric.istio-system", PrometheusHandler.NO_METRIC)).isEqualTo(1);
    assertThat(env.messages(Level.WARN)).hasSize(4).first().asString()
        .isEqualTo("prometheus: dropped instance requestcount.metric.istio-system (value_not_a_number, value many);"
            + " further drops like it are logged at DEBUG and counted in prometheus_dropped_instances_total");
    assertThat(scrape(registry.port())).contains("istio_c{s=\"a\"} 2\n");
  }

  @Test
  void aKnownSeriesIsFoundInTheCacheWithoutRenderingItsLabelsAgain() throws Exception {
    handler(counter("c", COUNT, "service", "code"));
    ExposedMetric metric = registry.metric("istio_c");

    DoubleConsumer first = metric.series(LabelValues.of("ratings", 200L));
    DoubleConsumer again = metric.series(LabelValues.of(new String("ratings"), 200L));
    assertThat(again).isSameAs(first);
    assertThat(metric.cachedKeys()).isEqualTo(1);

    // Another raw value with the same text is another key of the same series.
    DoubleConsumer text = metric.series(LabelValues.of("ratings", "200"));
    assertThat(metric.cachedKeys()).isEqualTo(2);
    first.accept(1);
    text.accept(1);
    assertThat(scrape(registry.port())).contains("istio_c{code=\"200\",service=\"ratings\"} 2\n");
  }

  @Test
  void ipAddressKeysAreComparedByContent() throws Exception {
    handler(counter("c", COUNT, "ip"));
    ExposedMetric metric = registry.metric("istio_c");
    assertThat(metric.series(LabelValues.of((Object) new byte[] {10, 0, 0, 1})))
        .isSameAs(metric.series(LabelValues.of((Object) new byte[] {10, 0, 0, 1})));
    assertThat(metric.cachedKeys()).isEqualTo(1);
  }

  @Test
  void theHandlerReusesItsProbeAndCachesEverySeriesOnce() throws Exception {
    PrometheusHandler h = handler(counter("c", COUNT, "service", "code"));
    for (int i = 0; i < 1000; i++) {
      h.handleMetric(List.of(instance(COUNT, 1L, "service", "svc" + (i % 3), "code", 200L)));
    }
    assertThat(registry.metric("istio_c").cachedKeys()).isEqualTo(3);
    assertThat(scrape(registry.port())).contains("istio_c{code=\"200\",service=\"svc0\"} 334\n");
  }

  @Test
  void recordingAKnownSeriesAllocatesNothing() throws Exception {
    PrometheusHandler h = handler(counter("request_count", COUNT, "source_service", "source_version",
        "destination_service", "destination_version", "response_code"));
    List<MetricInstance> batch = List.of(instance(COUNT, 1L, "source_service", "reviews.default.svc.cluster.local",
        "source_version", "v2", "destination_service", "ratings.default.svc.cluster.local",
        "destination_version", "v1", "response_code", 200L));
    ThreadMXBean threads =
        (ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int i = 0; i < 10_000; i++) {
      h.handleMetric(batch);
    }
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 100_000; i++) {
      h.handleMetric(batch);
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).as("bytes allocated by 100,000 calls").isLessThan(10_000);
    assertThat(scrape(registry.port())).contains("response_code=\"200\",source_service=\"reviews.default.svc.cluster.local\","
        + "source_version=\"v2\"} 110000\n");
  }

  @Test
  void aRebuiltHandlerKeepsTheCountsOfMetricsItDidNotChange() throws Exception {
    PrometheusHandler old = handler(counter("request_count", COUNT, "s"), gauge("inflight", INFLIGHT, "s"));
    old.handleMetric(List.of(instance(COUNT, 3L, "s", "a"), instance(INFLIGHT, 9L, "s", "a")));

    // As the runtime does: build the successor, then close the predecessor.
    PrometheusHandler next = handler(counter("request_count", COUNT, "s"), gauge("inflight", INFLIGHT, "s"),
        counter("other", LATENCY));
    old.close();
    next.handleMetric(List.of(instance(COUNT, 1L, "s", "a")));

    String text = scrape(registry.port());
    assertThat(text).contains("istio_request_count{s=\"a\"} 4\n").contains("istio_inflight{s=\"a\"} 9\n");
  }

  @Test
  void aRedefinedMetricIsReplacedAloneAndStartsAgain() throws Exception {
    PrometheusHandler old = handler(counter("request_count", COUNT, "s"), counter("kept", INFLIGHT, "s"));
    old.handleMetric(List.of(instance(COUNT, 3L, "s", "a"), instance(INFLIGHT, 5L, "s", "a")));

    PrometheusHandler next = handler(gauge("request_count", COUNT, "s"), counter("kept", INFLIGHT, "s"));
    old.close();
    next.handleMetric(List.of(instance(COUNT, 1L, "s", "a")));

    String text = scrape(registry.port());
    assertThat(text).contains("# TYPE istio_request_count gauge\nistio_request_count{s=\"a\"} 1\n")
        .contains("istio_kept{s=\"a\"} 5\n");
  }

  @Test
  void aMetricNoLiveHandlerDefinesIsNoLongerExposed() throws Exception {
    PrometheusHandler old = handler(counter("gone", COUNT, "s"));
    old.handleMetric(List.of(instance(COUNT, 3L, "s", "a")));
    PrometheusHandler next = handler(counter("new", COUNT, "s"));
    next.handleMetric(List.of(instance(COUNT, 1L, "s", "a")));
    assertThat(scrape(registry.port())).contains("istio_gone").contains("istio_new");
    old.close();
    assertThat(scrape(registry.port())).doesNotContain("istio_gone").contains("istio_new");
  }

  @Test
  void theFirstHandlerStartsTheServerAndTheLastOneStopsIt() throws Exception {
    assertThat(registry.port()).isEqualTo(-1);
    PrometheusHandler first = handler(counter("c", COUNT));
    int port = registry.port();
    assertThat(port).isPositive();
    PrometheusHandler second = handler(counter("c", COUNT));
    assertThat(registry.port()).isEqualTo(port);

    first.close();
    first.close(); // twice is harmless
    assertThat(scrape(port)).isEmpty(); // nothing recorded yet
    second.handleMetric(List.of(instance(COUNT, 2L)));
    assertThat(scrape(port)).isEqualTo("# HELP istio_c c\n# TYPE istio_c counter\nistio_c 2\n");
    second.close();
    assertThat(registry.port()).isEqualTo(-1);
    assertThatThrownBy(() -> get(port, "/metrics")).isInstanceOf(ConnectException.class);
  }

  @Test
  void aNewPortMovesTheServer() throws Exception {
    PrometheusHandler old = handler(counter("c", COUNT));
    int before = registry.port();
    int wanted = freePort();
    handler(wanted, counter("c", COUNT));
    assertThat(registry.port()).isEqualTo(wanted);
    assertThatThrownBy(() -> get(before, "/metrics")).isInstanceOf(ConnectException.class);
    old.close();
    assertThat(registry.port()).isEqualTo(wanted);
  }

  @Test
  void aPortInUseFailsTheBuildAndChangesNothing() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      PrometheusBuilder b = new PrometheusBuilder(registry);
      b.setAdapterConfig(Params.newBuilder().setPort(taken.getLocalPort()).addMetrics(counter("c", COUNT)).build());
      assertThat(b.validate().errors()).isEmpty();
      assertThatThrownBy(() -> b.build(env))
          .isInstanceOf(BindException.class)
          .hasMessage("cannot listen on 0.0.0.0:" + taken.getLocalPort() + " (prometheus adapter port): "
              + "Address already in use");
      assertThat(registry.port()).isEqualTo(-1);
      assertThat(registry.metric("istio_c")).isNull();
    }
  }

  @Test
  void theServerAnswersOnlyGetAndHeadOnMetrics() throws Exception {
    PrometheusHandler h = handler(counter("request_count", COUNT, "s"));
    h.handleMetric(List.of(instance(COUNT, 1L, "s", "a")));
    for (int i = 0; i < 50; i++) { // enough text to be worth gzipping
      h.handleMetric(List.of(instance(COUNT, 1L, "s", "service-" + i)));
    }
    int port = registry.port();

    HttpResponse<byte[]> ok = get(port, "/metrics");
    assertThat(ok.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(get(port, "/").statusCode()).isEqualTo(404);
    assertThat(get(port, "/metricsx").statusCode()).isEqualTo(404);
    HttpResponse<byte[]> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + port + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(post.statusCode()).isEqualTo(405);

    HttpResponse<byte[]> gz = get(port, "/metrics", "Accept-Encoding", "gzip");
    assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
    String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes(),
        StandardCharsets.UTF_8);
    assertThat(unzipped).isEqualTo(new String(ok.body(), StandardCharsets.UTF_8))
        .contains("istio_request_count{s=\"a\"} 1\n");
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
