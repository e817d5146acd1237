package io.istio4j.adapters.stackdriver;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.Distribution;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.logging.v2.LogEntry;
import com.google.monitoring.v3.TimeSeries;
import io.istio4j.adapter.testkit.TestMixer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Upstream's stackdriver.yaml, unchanged, in an in-memory Mixer: Reports become the time series
 * and log entries the fake Google services receive. The only override is {@code
 * STACKDRIVER_EMULATOR_HOST}, as an operator would point the adapter at an emulator.
 */
class StackdriverScenarioTest {

  static final Path UPSTREAM = Path.of("src/test/resources/upstream/stackdriver.yaml");

  private FakeGoogleCloud fake;

  @BeforeEach
  void start() throws Exception {
    fake = FakeGoogleCloud.start();
  }

  @AfterEach
  void stop() throws Exception {
    fake.close();
  }

  static Map<String, Object> request(long code, long millis) {
    Map<String, Object> r = new HashMap<>();
    r.put("source.service", "reviews.default.svc.cluster.local");
    r.put("source.labels", Map.of("version", "v2"));
    r.put("destination.service", "ratings.default.svc.cluster.local");
    r.put("destination.labels", Map.of("version", "v1"));
    r.put("response.code", code);
    r.put("response.duration", Duration.ofMillis(millis));
    r.put("request.size", 100L);
    r.put("response.size", 2000L);
    r.put("request.method", "GET");
    r.put("request.path", "/ratings/0");
    r.put("request.time", Instant.parse("2017-10-10T10:11:12Z"));
    r.put("origin.ip", new byte[] {10, 0, 0, 7});
    r.put("target.ip", new byte[] {10, 0, 0, 9});
    return r;
  }

  @Test
  void upstreamConfigTurnsReportsIntoTimeSeriesAndLogEntries() throws Exception {
    TestMixer mixer = TestMixer.builder()
        .adapters(new StackdriverAdapter(Map.of(Clients.EMULATOR_ENV, fake.endpoint())::get))
        .config(Files.readString(UPSTREAM))
        .start();
    try {
      assertThat(mixer.rejected()).isEmpty();
      assertThat(mixer.report(request(200, 20), request(200, 40), request(503, 600)).error()).isNull();
    } finally {
      mixer.close(); // closing the handler pushes what the interval (1 minute by default) holds
    }
    assertThat(fake.refusals).isEmpty();
    List<TimeSeries> series = fake.timeSeries();
    TimeSeries ok = series.stream().filter(t -> t.getMetric().getType()
            .equals("custom.googleapis.com/stackdriverrequestcount.metric.istio-system")
            && t.getMetric().getLabelsMap().get("response_code").equals("200")).findFirst().orElseThrow();
    assertThat(ok.getMetricKind()).isEqualTo(MetricKind.CUMULATIVE); // upstream's DELTA, as today's API takes it
    assertThat(ok.getPoints(0).getValue().getInt64Value()).isEqualTo(2);
    assertThat(ok.getMetric().getLabelsMap()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "source_service", "reviews.default.svc.cluster.local", "source_version", "v2",
        "destination_service", "ratings.default.svc.cluster.local", "destination_version", "v1",
        "response_code", "200"));
    assertThat(ok.getResource().getType()).isEqualTo("global");
    assertThat(ok.getResource().getLabelsMap()).containsEntry("project_id", "<your project ID>");
    Distribution latency = series.stream().filter(t -> t.getMetric().getType().endsWith("stackdriverrequestduration"
            + ".metric.istio-system") && t.getMetric().getLabelsMap().get("response_code").equals("200"))
        .findFirst().orElseThrow().getPoints(0).getValue().getDistributionValue();
    assertThat(latency.getCount()).isEqualTo(2);
    assertThat(latency.getBucketCountsCount()).isEqualTo(12); // 11 explicit bounds
    assertThat(series).hasSize(4 * 2); // four metrics, two response codes
    assertThat(fake.descriptors).hasSize(4);

    List<LogEntry> entries = fake.logEntries();
    assertThat(entries).hasSize(3);
    LogEntry e = entries.get(0);
    assertThat(e.getLogName()).isEqualTo("projects/<your project ID>/logs/stackdriverglobalmr.logentry.istio-system");
    assertThat(e.getTextPayload())
        .isEqualTo("10.0.0.7 - - [10/Oct/2017:10:11:12 +0000] \"GET /ratings/0 http\" 200 2000");
    assertThat(e.getHttpRequest().getStatus()).isEqualTo(200);
    assertThat(e.getHttpRequest().getResponseSize()).isEqualTo(2000);
    assertThat(e.getHttpRequest().getServerIp()).isEqualTo("10.0.0.7");
    assertThat(e.getHttpRequest().getRemoteIp()).isEqualTo("10.0.0.9");
  }
}
