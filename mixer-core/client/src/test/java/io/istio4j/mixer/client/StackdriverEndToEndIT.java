package io.istio4j.mixer.client;

import static io.istio4j.mixer.client.MixsProcessIT.ROOT;
import static io.istio4j.mixer.client.MixsProcessIT.awaitReady;
import static io.istio4j.mixer.client.MixsProcessIT.freePort;
import static io.istio4j.mixer.client.MixsProcessIT.http;
import static io.istio4j.mixer.client.MixsProcessIT.run;
import static io.istio4j.mixer.client.PrometheusEndToEndIT.deleteRecursively;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.google.api.Distribution;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import com.google.logging.type.LogSeverity;
import com.google.logging.v2.LogEntry;
import com.google.monitoring.v3.TimeSeries;
import io.istio4j.adapters.stackdriver.FakeGoogleCloud;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The stackdriver adapter end to end, as an operator runs it against an emulator: {@code bin/mixs}
 * with upstream's {@code stackdriver.yaml} byte for byte (plus the quickstart's attribute
 * manifest), {@code STACKDRIVER_EMULATOR_HOST} pointing Google's client libraries at {@link
 * FakeGoogleCloud}, Reports sent with {@code bin/mixc}. The push interval is upstream's default (one
 * minute), so this test waits for three pushes: the first delivers the expected series, the second
 * finds the API down (Reports still succeed, the loss is counted in mixs's /metrics), the third
 * finds it back and data resumes.
 */
class StackdriverEndToEndIT {

  static final Path UPSTREAM = ROOT.resolve("mixer-core/server/src/test/resources/upstream-config/stackdriver.yaml");
  static final String PREFIX = "custom.googleapis.com/";
  static final String COUNT = PREFIX + "stackdriverrequestcount.metric.istio-system";
  static final String DURATION = PREFIX + "stackdriverrequestduration.metric.istio-system";
  static final String REQUEST_SIZE = PREFIX + "stackdriverrequestsize.metric.istio-system";
  static final String RESPONSE_SIZE = PREFIX + "stackdriverresponsesize.metric.istio-system";
  /** One push interval (upstream's default) plus the time of a call's retries. */
  static final long PUSH_WAIT_SECONDS = 150;

  @Test
  void upstreamConfigReachesTheEmulatorAndSurvivesItsOutage() throws Exception {
    Path work = Files.createTempDirectory("stackdriver-e2e");
    Path configDir = Files.createDirectories(work.resolve("config"));
    Files.copy(ROOT.resolve("examples/quickstart/attributes.yaml"), configDir.resolve("attributes.yaml"));
    Files.copy(UPSTREAM, configDir.resolve("stackdriver.yaml"));
    assertThat(Files.mismatch(UPSTREAM, configDir.resolve("stackdriver.yaml"))).isEqualTo(-1);

    int mixerPort = freePort();
    int monitoringPort = freePort();
    Path mixsLog = work.resolve("mixs.log");
    try (FakeGoogleCloud fake = FakeGoogleCloud.start()) {
      ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("bin/mixs").toString(), "server",
          "--configStoreURL=fs://" + configDir, "--port", String.valueOf(mixerPort),
          "--monitoringPort", String.valueOf(monitoringPort))
          .redirectErrorStream(true).redirectOutput(mixsLog.toFile());
      pb.environment().put("STACKDRIVER_EMULATOR_HOST", fake.endpoint());
      Process mixs = pb.start();
      try {
        awaitReady(monitoringPort, mixs, mixsLog);

        // ---- 1. Reports become the expected series and entries ----
        report(mixerPort, 200, "20ms", 2);
        report(mixerPort, 503, "600ms", 1);
        await("three log entries", mixsLog, () -> fake.logEntries().size() >= 3);
        await("the first push (4 metrics x 2 response codes)", mixsLog, () -> fake.timeSeries().size() >= 8);
        assertThat(fake.refusals).as("refused calls").isEmpty();

        List<TimeSeries> first = fake.timeSeries();
        assertThat(first).hasSize(8);
        assertThat(fake.descriptors.keySet()).containsExactlyInAnyOrder(COUNT, DURATION, REQUEST_SIZE, RESPONSE_SIZE);
        // Upstream's DELTA (kind: 2) is written as CUMULATIVE, which Cloud Monitoring accepts.
        assertThat(fake.descriptors.values()).allSatisfy(d -> assertThat(d.getMetricKind())
            .isEqualTo(MetricKind.CUMULATIVE));
        TimeSeries ok = series(first, COUNT, "200");
        assertThat(ok.getMetricKind()).isEqualTo(MetricKind.CUMULATIVE);
        assertThat(ok.getValueType()).isEqualTo(ValueType.INT64);
        assertThat(ok.getPoints(0).getValue().getInt64Value()).isEqualTo(2);
        assertThat(series(first, COUNT, "503").getPoints(0).getValue().getInt64Value()).isEqualTo(1);
        assertThat(ok.getMetric().getLabelsMap()).containsExactlyInAnyOrderEntriesOf(Map.of(
            "source_service", "reviews.default.svc.cluster.local", "source_version", "v2",
            "destination_service", "ratings.default.svc.cluster.local", "destination_version", "v1",
            "response_code", "200"));
        assertThat(ok.getResource().getType()).isEqualTo("global");
        assertThat(ok.getResource().getLabelsMap()).containsExactly(Map.entry("project_id", "<your project ID>"));

        Distribution latency = series(first, DURATION, "200").getPoints(0).getValue().getDistributionValue();
        assertThat(latency.getCount()).isEqualTo(2);
        assertThat(latency.getMean()).isEqualTo(0.020, within(1e-9));
        assertThat(latency.getBucketOptions().getExplicitBuckets().getBoundsList()).containsExactly(
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0);
        // Bucket i holds [bounds[i-1], bounds[i]) (bucket 0 is the underflow): 20ms is in bucket 2, [0.01, 0.025).
        assertThat(latency.getBucketCountsList()).containsExactly(0L, 0L, 2L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L);
        Distribution slow = series(first, DURATION, "503").getPoints(0).getValue().getDistributionValue();
        assertThat(slow.getBucketCounts(7)).as("600ms in [0.5, 1)").isEqualTo(1);
        Distribution size = series(first, RESPONSE_SIZE, "200").getPoints(0).getValue().getDistributionValue();
        assertThat(size.getBucketOptions().getExponentialBuckets().getNumFiniteBuckets()).isEqualTo(8);
        assertThat(size.getBucketCountsCount()).isEqualTo(10);
        assertThat(size.getBucketCounts(4)).as("2000 in [1000, 10000)").isEqualTo(2);

        LogEntry entry = fake.logEntries().stream().filter(e -> e.getHttpRequest().getStatus() == 200)
            .findFirst().orElseThrow();
        assertThat(entry.getLogName()).isEqualTo("projects/<your project ID>/logs/stackdriverglobalmr.logentry.istio-system");
        assertThat(entry.getSeverity()).isEqualTo(LogSeverity.DEFAULT);
        assertThat(entry.getLabelsMap()).isEmpty(); // upstream's log_info names no labels
        assertThat(entry.getTextPayload())
            .isEqualTo("10.0.0.7 - - [10/Oct/2017:10:11:12 +0000] \"GET /ratings/0 http\" 200 2000");
        assertThat(entry.getTimestamp().getSeconds()).isEqualTo(1507630272L);
        assertThat(entry.getResource().getType()).isEqualTo("global");
        assertThat(entry.getHttpRequest().getRequestSize()).isEqualTo(100);
        assertThat(entry.getHttpRequest().getResponseSize()).isEqualTo(2000);
        assertThat(entry.getHttpRequest().getLatency().getNanos()).isEqualTo(20_000_000);
        assertThat(entry.getHttpRequest().getServerIp()).isEqualTo("10.0.0.7");
        assertThat(entry.getHttpRequest().getRemoteIp()).isEqualTo("10.0.0.9");

        // ---- 2. The API goes down: Reports keep succeeding, the loss is counted ----
        fake.down();
        report(mixerPort, 200, "20ms", 1);
        await("a failed log write counted in /metrics", mixsLog,
            () -> counter(monitoringPort, "log", "api_error") >= 1);
        await("a failed push counted in /metrics", mixsLog,
            () -> counter(monitoringPort, "metric", "api_error") >= 1);
        report(mixerPort, 200, "20ms", 1);

        // ---- 3. The API is back: data resumes ----
        fake.up();
        int seriesBefore = fake.timeSeries().size();
        int entriesBefore = fake.logEntries().size();
        report(mixerPort, 200, "20ms", 2);
        await("log entries after the outage", mixsLog, () -> fake.logEntries().size() >= entriesBefore + 2);
        await("a push after the outage", mixsLog, () -> fake.timeSeries().size() > seriesBefore);
        List<TimeSeries> all = fake.timeSeries();
        List<TimeSeries> after = all.subList(seriesBefore, all.size());
        // The report sent while the API was down was kept in the interval that the up push wrote.
        assertThat(series(after, COUNT, "200").getPoints(0).getValue().getInt64Value()).isEqualTo(3);
        assertThat(fake.refusals).allSatisfy(r -> assertThat(r).contains("UNAVAILABLE"));
        assertThat(counter(monitoringPort, "metric", "rejected")).isZero();
        assertThat(written(monitoringPort, "metric")).isGreaterThanOrEqualTo(9);

        mixs.destroy();
        assertThat(mixs.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(mixs.exitValue()).as(Files.readString(mixsLog)).isZero();
      } finally {
        mixs.destroyForcibly();
        mixs.waitFor(10, TimeUnit.SECONDS);
      }
    } finally {
      deleteRecursively(work);
    }
  }

  static void report(int mixerPort, long code, String duration, int times) throws Exception {
    MixsProcessIT.Result r = run("bin/mixc", "report", "-m", "localhost:" + mixerPort,
        "-s", "destination.service=ratings.default.svc.cluster.local,source.service=reviews.default.svc.cluster.local,"
            + "request.method=GET,request.path=/ratings/0,request.scheme=http",
        "-i", "response.code=" + code + ",request.size=100,response.size=2000",
        "--duration_attributes", "response.duration=" + duration,
        "-t", "request.time=2017-10-10T10:11:12Z",
        "--bytes_attributes", "origin.ip=a:0:0:7,target.ip=a:0:0:9",
        "--stringmap_attributes", "source.labels=version:v2,destination.labels=version:v1",
        "-r", String.valueOf(times));
    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).contains("Report RPC returned OK").doesNotContain("returned UNAVAILABLE");
  }

  static TimeSeries series(List<TimeSeries> all, String type, String code) {
    return all.stream().filter(t -> t.getMetric().getType().equals(type)
            && code.equals(t.getMetric().getLabelsMap().get("response_code")))
        .reduce((a, b) -> b) // the latest
        .orElseThrow(() -> new AssertionError("no series " + type + " response_code=" + code + " in " + all));
  }

  /** {@code stackdriver_dropped_total{signal, reason}} in mixs's /metrics, 0 when absent. */
  static double counter(int monitoringPort, String signal, String reason) throws Exception {
    return sample(monitoringPort, "stackdriver_dropped_total\\{[^}]*signal=\"" + signal + "\"[^}]*reason=\"" + reason
        + "\"[^}]*\\}|stackdriver_dropped_total\\{[^}]*reason=\"" + reason + "\"[^}]*signal=\"" + signal
        + "\"[^}]*\\}");
  }

  static double written(int monitoringPort, String signal) throws Exception {
    return sample(monitoringPort, "stackdriver_written_total\\{[^}]*signal=\"" + signal + "\"[^}]*\\}");
  }

  private static double sample(int monitoringPort, String series) throws Exception {
    String body = http(monitoringPort, "/metrics").body();
    Matcher m = Pattern.compile("(?m)^(?:" + series + ") (\\S+)$").matcher(body);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  interface Check {
    boolean ok() throws Exception;
  }

  static void await(String what, Path mixsLog, Check check) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(PUSH_WAIT_SECONDS);
    while (System.nanoTime() < deadline) {
      if (check.ok()) {
        return;
      }
      Thread.sleep(200);
    }
    throw new AssertionError("not seen within " + PUSH_WAIT_SECONDS + "s: " + what + "\nmixs log:\n"
        + Files.readString(mixsLog));
  }
}
