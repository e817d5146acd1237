package io.istio4j.adapters.stackdriver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import com.google.api.Distribution;
import com.google.api.MetricDescriptor;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import com.google.api.gax.rpc.InvalidArgumentException;
import com.google.devtools.cloudtrace.v2.Span;
import com.google.logging.type.LogSeverity;
import com.google.logging.v2.LogEntry;
import com.google.monitoring.v3.CreateTimeSeriesRequest;
import com.google.monitoring.v3.TimeSeries;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.stackdriver.config.Params;
import io.istio4j.adapters.stackdriver.config.Params.LogInfo;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo.BucketsDefinition;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.logentry.LogEntryType;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricType;
import io.istio4j.template.tracespan.TraceSpanInstance;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The handler with Google's real client libraries, writing to {@link FakeGoogleCloud} over plaintext. */
class StackdriverHandlerTest {

  static final String COUNT = "requestcount.metric.istio-system";
  static final String DURATION = "requestduration.metric.istio-system";
  static final String TOTAL = "requesttotal.metric.istio-system";
  static final String ACCESS = "accesslog.logentry.istio-system";

  static final Map<String, io.istio4j.adapter.ValueType> DIMS = Map.of(
      "destination_service", io.istio4j.adapter.ValueType.STRING,
      "response_code", io.istio4j.adapter.ValueType.INT64);

  private FakeGoogleCloud fake;
  private TestEnv env;
  private final List<StackdriverHandler> handlers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    fake = FakeGoogleCloud.start();
    env = TestEnv.create();
  }

  @AfterEach
  void stop() throws Exception {
    for (StackdriverHandler h : handlers) {
      h.close();
    }
    env.close();
    fake.close();
  }

  static Params.Builder params() {
    return Params.newBuilder()
        .setProjectId("test-project")
        .putMetricInfo(COUNT, MetricInfo.newBuilder().setKind(MetricKind.DELTA).setValue(ValueType.INT64).build())
        .putMetricInfo(TOTAL, MetricInfo.newBuilder().setKind(MetricKind.CUMULATIVE).setValue(ValueType.INT64).build())
        .putMetricInfo(DURATION, MetricInfo.newBuilder().setKind(MetricKind.DELTA).setValue(ValueType.DISTRIBUTION)
            .setBuckets(BucketsDefinition.newBuilder().setExplicitBuckets(
                BucketsDefinition.Explicit.newBuilder().addBounds(0.1).addBounds(1).addBounds(10))).build())
        .putLogInfo(ACCESS, LogInfo.newBuilder().addLabelNames("sourceUser")
            .setPayloadTemplate("{{or (.url) \"-\"}} {{.code}} {{.timestamp.Format \"02/Jan/2006:15:04:05 -0700\"}}")
            .setHttpMapping(LogInfo.HttpRequestMapping.newBuilder().setStatus("code").setLatency("latency")
                .setRemoteIp("origin"))
            .build());
  }

  StackdriverHandler handler(Params params) throws Exception {
    StackdriverBuilder b = new StackdriverBuilder(Map.of(Clients.EMULATOR_ENV, fake.endpoint())::get);
    MetricType type = new MetricType(io.istio4j.adapter.ValueType.INT64, DIMS, Map.of());
    b.setMetricTypes(Map.of(COUNT, type, TOTAL, type,
        DURATION, new MetricType(io.istio4j.adapter.ValueType.DURATION, DIMS, Map.of())));
    b.setLogEntryTypes(Map.of(ACCESS, new LogEntryType(Map.of("url", io.istio4j.adapter.ValueType.STRING,
        "code", io.istio4j.adapter.ValueType.INT64, "sourceUser", io.istio4j.adapter.ValueType.STRING,
        "latency", io.istio4j.adapter.ValueType.DURATION, "origin", io.istio4j.adapter.ValueType.IP_ADDRESS),
        Map.of())));
    b.setAdapterConfig(params);
    assertThat(b.validate().errors()).isEmpty();
    StackdriverHandler h = (StackdriverHandler) b.build(env);
    handlers.add(h);
    return h;
  }

  static MetricInstance metric(String name, Object value, String service, long code) {
    return new MetricInstance(name, value, Map.of("destination_service", service, "response_code", code), "",
        Map.of());
  }

  double dropped(String signal, String reason) {
    return env.counterValue(StackdriverHandler.DROPPED_METRIC, "signal", signal, "reason", reason);
  }

  @Test
  void aggregatesInstancesIntoOnePointPerSeriesPerPush() throws Exception {
    StackdriverHandler h = handler(params().build());
    for (int i = 0; i < 5; i++) {
      h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200), metric(COUNT, 1L, "reviews", 500),
          metric(DURATION, Duration.ofMillis(50 * (i + 1)), "ratings", 200)));
    }
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();

    assertThat(fake.refusals).isEmpty();
    assertThat(fake.descriptors).containsKeys("custom.googleapis.com/" + COUNT, "custom.googleapis.com/" + DURATION);
    assertThat(fake.descriptors.get("custom.googleapis.com/" + COUNT).getLabelsList())
        .extracting(l -> l.getKey()).containsExactly("destination_service", "response_code");
    List<TimeSeries> series = fake.timeSeries();
    assertThat(series).hasSize(3);
    TimeSeries ratings = find(series, COUNT, "ratings");
    assertThat(ratings.getPoints(0).getValue().getInt64Value()).isEqualTo(5);
    assertThat(ratings.getMetric().getLabelsMap()).containsEntry("response_code", "200");
    assertThat(ratings.getResource().getType()).isEqualTo("global");
    assertThat(ratings.getResource().getLabelsMap()).containsEntry("project_id", "test-project");
    // DELTA is configured; Cloud Monitoring takes only GAUGE and CUMULATIVE for custom metrics.
    assertThat(ratings.getMetricKind()).isEqualTo(MetricKind.CUMULATIVE);
    assertThat(fake.descriptors.get("custom.googleapis.com/" + COUNT).getMetricKind())
        .isEqualTo(MetricKind.CUMULATIVE);
    Distribution d = find(series, DURATION, "ratings").getPoints(0).getValue().getDistributionValue();
    assertThat(d.getCount()).isEqualTo(5);
    assertThat(d.getMean()).isCloseTo(0.15, offset(1e-9));
    assertThat(d.getBucketCountsList()).containsExactly(1L, 4L, 0L, 0L); // <0.1, [0.1,1), [1,10), >=10
    assertThat(d.getBucketOptions().getExplicitBuckets().getBoundsList()).containsExactly(0.1, 1.0, 10.0);
    assertThat(env.counterValue(StackdriverHandler.WRITTEN_METRIC, "signal", "metric")).isEqualTo(3);
  }

  static TimeSeries find(List<TimeSeries> series, String instance, String service) {
    return series.stream().filter(t -> t.getMetric().getType().endsWith(instance)
        && t.getMetric().getLabelsMap().get("destination_service").equals(service)).findFirst().orElseThrow();
  }

  @Test
  void cumulativeKeepsItsStartTimeAndDeltaIntervalsFollowEachOther() throws Exception {
    StackdriverHandler h = handler(params().build());
    Instant first = env.clock().instant();
    for (int push = 1; push <= 3; push++) {
      h.handleMetric(List.of(metric(TOTAL, 2L, "ratings", 200), metric(COUNT, 1L, "ratings", 200)));
      env.advance(Duration.ofMinutes(1));
      h.pushMetrics();
    }
    assertThat(fake.refusals).isEmpty(); // the fake checks order, start times and overlaps
    List<TimeSeries> totals = fake.timeSeries().stream()
        .filter(t -> t.getMetric().getType().endsWith(TOTAL)).toList();
    assertThat(totals).extracting(t -> t.getPoints(0).getValue().getInt64Value()).containsExactly(2L, 4L, 6L);
    assertThat(totals).extracting(t -> t.getPoints(0).getInterval().getStartTime().getSeconds())
        .containsOnly(first.getEpochSecond());
    List<TimeSeries> deltas = fake.timeSeries().stream()
        .filter(t -> t.getMetric().getType().endsWith(COUNT)).toList();
    assertThat(deltas).extracting(t -> t.getPoints(0).getValue().getInt64Value()).containsExactly(1L, 1L, 1L);
    for (int i = 1; i < deltas.size(); i++) {
      // A CUMULATIVE reset: the start is a millisecond after the previous end.
      assertThat(Timestamps.between(deltas.get(i - 1).getPoints(0).getInterval().getEndTime(),
          deltas.get(i).getPoints(0).getInterval().getStartTime())).isEqualTo(Durations.fromMillis(1));
    }
  }

  @Test
  void splitsIntoRequestsOfAtMost200Series() throws Exception {
    StackdriverHandler h = handler(params().build());
    List<MetricInstance> batch = new ArrayList<>();
    for (int i = 0; i < 450; i++) {
      batch.add(metric(COUNT, 1L, "svc-" + i, 200));
    }
    h.handleMetric(batch);
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.refusals).isEmpty();
    assertThat(fake.timeSeriesRequests).extracting(CreateTimeSeriesRequest::getTimeSeriesCount)
        .containsExactly(200, 200, 50);
  }

  @Test
  void boundsTheSeriesItHoldsAndCountsTheRest() throws Exception {
    StackdriverHandler h = handler(params().setMaxSeries(100).build());
    List<MetricInstance> batch = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      batch.add(metric(COUNT, 1L, "svc-" + i, 200));
    }
    h.handleMetric(batch);
    assertThat(h.seriesHeld()).isEqualTo(100);
    assertThat(dropped("metric", "series_limit")).isEqualTo(4900);
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.timeSeries()).hasSize(100);
    // Idle DELTA series are forgotten at the next push, which makes room for new ones.
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(h.seriesHeld()).isZero();
    h.handleMetric(List.of(metric(COUNT, 1L, "new", 200)));
    assertThat(h.seriesHeld()).isEqualTo(1);
  }

  @Test
  void writesLogEntriesWithPayloadLabelsSeverityAndHttpRequest() throws Exception {
    StackdriverHandler h = handler(params().build());
    Instant t = Instant.parse("2017-10-10T10:11:12Z");
    h.handleLogEntry(List.of(new LogEntryInstance(ACCESS, Map.of("url", "/ratings", "code", 503L,
        "sourceUser", "reviews", "latency", Duration.ofMillis(25), "origin", new byte[] {10, 0, 0, 1}), t,
        "Warning", "", Map.of())));
    h.writeEntries();
    assertThat(fake.refusals).isEmpty();
    LogEntry e = fake.logEntries().get(0);
    assertThat(e.getLogName()).isEqualTo("projects/test-project/logs/" + ACCESS);
    assertThat(e.getTextPayload()).isEqualTo("/ratings 503 10/Oct/2017:10:11:12 +0000");
    assertThat(e.getSeverity()).isEqualTo(LogSeverity.WARNING);
    assertThat(e.getLabelsMap()).containsExactly(Map.entry("sourceUser", "reviews"));
    assertThat(e.getTimestamp().getSeconds()).isEqualTo(t.getEpochSecond());
    assertThat(e.getHttpRequest().getStatus()).isEqualTo(503);
    assertThat(Durations.toMillis(e.getHttpRequest().getLatency())).isEqualTo(25);
    assertThat(e.getHttpRequest().getRemoteIp()).isEqualTo("10.0.0.1");
    assertThat(e.getResource().getType()).isEqualTo("global");
  }

  @Test
  void writesTraceSpansAndDropsMalformedIds() throws Exception {
    StackdriverHandler h = handler(params().build());
    Instant t = Instant.parse("2017-10-10T10:11:12Z");
    h.handleTraceSpan(List.of(
        new TraceSpanInstance("span.tracespan.istio-system", "463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312",
            "", "GET /ratings", t, t.plusMillis(25), Map.of("http.status", 200L, "peer", "reviews")),
        new TraceSpanInstance("span.tracespan.istio-system", "not-hex", "a2fb4a1d1a96d312", "", "x", t, t,
            Map.of())));
    h.writeSpans();
    assertThat(fake.refusals).isEmpty();
    Span s = fake.spans().get(0);
    assertThat(fake.spans()).hasSize(1);
    assertThat(s.getName()).isEqualTo("projects/test-project/traces/463ac35c9f6413ad48485a3953bb6124/spans/a2fb4a1d1a96d312");
    assertThat(s.getDisplayName().getValue()).isEqualTo("GET /ratings");
    assertThat(s.getAttributes().getAttributeMapMap().get("http.status").getIntValue()).isEqualTo(200);
    assertThat(dropped("span", "bad_value")).isEqualTo(1);
  }

  @Test
  void aDeadApiCostsTheRequestPathNothingAndDropsAreCounted() throws Exception {
    StackdriverHandler h = handler(params().setMaxBufferedEntries(10).setMaxAttempts(2)
        .setTimeout(Durations.fromSeconds(2)).build());
    fake.down();
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.refusals).filteredOn(r -> r.startsWith("GetMetricDescriptor: UNAVAILABLE"))
        .hasSize(3 * 2); // three descriptors, max_attempts 2: UNAVAILABLE is retried
    assertThat(dropped("metric", "api_error")).isEqualTo(1);
    for (int i = 0; i < 15; i++) {
      h.handleLogEntry(List.of(access(i)));
    }
    assertThat(dropped("log", "buffer_full")).isEqualTo(5);
    h.writeEntries();
    assertThat(dropped("log", "api_error")).isEqualTo(10);

    fake.up();
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.timeSeries()).hasSize(1);
  }

  LogEntryInstance access(int i) {
    return new LogEntryInstance(ACCESS, Map.of("url", "/r/" + i, "code", 200L, "sourceUser", "u"),
        Instant.parse("2017-10-10T10:11:12Z"), "Info", "", Map.of());
  }

  @Test
  void aStalledApiNeverBlocksTheRequestPath() throws Exception {
    // A generous deadline: the stalled call must still be waiting when the test releases it.
    StackdriverHandler h = handler(params().setMaxBufferedEntries(100).setBatchSize(10)
        .setTimeout(Durations.fromSeconds(120)).setMaxAttempts(1).build());
    fake.stall();
    h.handleLogEntry(List.of(access(0)));
    CompletableFuture<Void> flushing = CompletableFuture.runAsync(h::writeEntries);
    try {
      fake.awaitStalledCalls(1);
      // While the writer waits on the stalled API, requests keep being handled (and dropped once full).
      for (int i = 0; i < 1000; i++) {
        h.handleLogEntry(List.of(access(i)));
        h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
      }
      assertThat(h.entriesQueued()).isEqualTo(100);
      assertThat(dropped("log", "buffer_full")).isEqualTo(900);
    } finally {
      fake.release();
    }
    flushing.get(30, TimeUnit.SECONDS);
    assertThat(h.entriesQueued()).isZero();
    assertThat(fake.logEntries()).hasSize(101);
  }

  @Test
  void anInvalidArgumentIsReportedToTheOperator() throws Exception {
    StackdriverHandler h = handler(params().build());
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    // Another writer changed the descriptor: the API refuses our points, and the operator is told.
    synchronized (fake) {
      fake.descriptors.put("custom.googleapis.com/" + COUNT, fake.descriptors.get("custom.googleapis.com/" + COUNT)
          .toBuilder().setValueType(ValueType.DOUBLE).build());
    }
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.refusals).singleElement().asString().contains("INVALID_ARGUMENT")
        .contains("Value type for metric custom.googleapis.com/" + COUNT + " must be DOUBLE");
    assertThat(env.reportedError()).startsWith("CreateTimeSeries refused: INVALID_ARGUMENT");
    assertThat(dropped("metric", "rejected")).isEqualTo(1);
    assertThat(dropped("metric", "api_error")).isZero();
  }

  @Test
  void closingFlushesWhatIsPending() throws Exception {
    StackdriverHandler h = handler(params().build());
    h.handleMetric(List.of(metric(COUNT, 3L, "ratings", 200)));
    h.handleLogEntry(List.of(access(1)));
    env.advance(Duration.ofSeconds(10));
    handlers.remove(h);
    h.close();
    assertThat(fake.timeSeries()).hasSize(1);
    assertThat(fake.logEntries()).hasSize(1);
  }

  @Test
  void longLabelValuesAreCutToTheApiLimit() throws Exception {
    StackdriverHandler h = handler(params().build());
    h.handleMetric(List.of(metric(COUNT, 1L, "x".repeat(5000), 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.refusals).isEmpty();
    assertThat(fake.timeSeries().get(0).getMetric().getLabelsMap().get("destination_service")).hasSize(1024);
  }

  @Test
  void theFakeRefusesDeltaForCustomMetricsAsCloudMonitoringDoes() throws Exception {
    StackdriverBuilder b = new StackdriverBuilder(Map.<String, String>of()::get);
    b.setAdapterConfig(params().build());
    assertThat(b.validate().errors()).isEmpty();
    try (Clients clients = Clients.create(b.validated(),
        new Clients.Connection(fake.endpoint(), true, Duration.ofSeconds(5), 1))) {
      assertThatThrownBy(() -> clients.metrics.createMetricDescriptor("projects/test-project",
          MetricDescriptor.newBuilder().setType("custom.googleapis.com/x").setMetricKind(MetricKind.DELTA)
              .setValueType(ValueType.INT64).build()))
          .isInstanceOf(InvalidArgumentException.class)
          .hasMessageContaining("Field metricDescriptor.metricKind had an invalid value of \"DELTA\": When creating"
              + " metric custom.googleapis.com/x: the DELTA metric kind is not supported for custom metrics.");
    }
  }

  @Test
  void aPartlyRefusedRequestCountsWrittenAndRejectedPointsAndIsNotRetried() throws Exception {
    StackdriverHandler h = handler(params().build());
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200), metric(TOTAL, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(env.counterValue(StackdriverHandler.WRITTEN_METRIC, "signal", "metric")).isEqualTo(2);
    // Someone else redefined one metric: its series are refused, the others are written.
    synchronized (fake) {
      fake.descriptors.put("custom.googleapis.com/" + TOTAL, fake.descriptors.get("custom.googleapis.com/" + TOTAL)
          .toBuilder().setValueType(ValueType.DOUBLE).build());
    }
    int callsBefore = fake.createTimeSeriesCalls.get();
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200), metric(COUNT, 1L, "reviews", 200),
        metric(TOTAL, 1L, "ratings", 200), metric(TOTAL, 1L, "reviews", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();

    assertThat(fake.createTimeSeriesCalls.get() - callsBefore).as("calls for one batch: no retry").isEqualTo(1);
    assertThat(fake.refusals).singleElement().asString()
        .startsWith("CreateTimeSeries: INVALID_ARGUMENT: One or more TimeSeries could not be written: Field timeSeries[")
        .contains("Value type for metric custom.googleapis.com/" + TOTAL + " must be DOUBLE");
    assertThat(fake.timeSeries()).hasSize(2 + 2);
    assertThat(env.counterValue(StackdriverHandler.WRITTEN_METRIC, "signal", "metric")).isEqualTo(2 + 2);
    assertThat(dropped("metric", "rejected")).isEqualTo(2);
    assertThat(dropped("metric", "api_error")).isZero();
    assertThat(env.reportedError()).startsWith("CreateTimeSeries refused: INVALID_ARGUMENT");
  }

  @Test
  void aSlowApiIsRetriedOnDeadlineAndTheRestOfThePushIsDroppedAtOnce() throws Exception {
    StackdriverHandler h = handler(params().setTimeout(Durations.fromMillis(1000)).setMaxAttempts(2).build());
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics(); // descriptors exist from now on
    List<MetricInstance> batch = new ArrayList<>();
    for (int i = 0; i < 450; i++) {
      batch.add(metric(COUNT, 1L, "svc-" + i, 200));
    }
    h.handleMetric(batch);
    env.advance(Duration.ofMinutes(1));
    int callsBefore = fake.createTimeSeriesCalls.get();
    fake.stall();
    try {
      h.pushMetrics();
    } finally {
      fake.release();
    }
    // The first batch of 200: two attempts, each cut by its deadline; the other two batches are not sent.
    assertThat(fake.createTimeSeriesCalls.get() - callsBefore).isEqualTo(2);
    assertThat(dropped("metric", "api_error")).isEqualTo(450);
    h.handleMetric(List.of(metric(COUNT, 1L, "ratings", 200)));
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.timeSeries()).filteredOn(t -> t.getMetric().getLabelsMap().get("destination_service")
        .equals("ratings")).hasSize(2);
  }

  @Test
  void tenThousandLabelSetsAreHeldAndPushedIn50Requests() throws Exception {
    StackdriverHandler h = handler(params().build()); // max_series: 10000 by default
    List<MetricInstance> batch = new ArrayList<>();
    for (int i = 0; i < 10_001; i++) {
      batch.add(metric(COUNT, 1L, "svc-" + i, 200));
    }
    h.handleMetric(batch);
    assertThat(h.seriesHeld()).isEqualTo(10_000);
    assertThat(dropped("metric", "series_limit")).isEqualTo(1);
    env.advance(Duration.ofMinutes(1));
    h.pushMetrics();
    assertThat(fake.refusals).isEmpty();
    assertThat(fake.timeSeriesRequests).hasSize(50);
    assertThat(env.counterValue(StackdriverHandler.WRITTEN_METRIC, "signal", "metric")).isEqualTo(10_000);
  }

  @Test
  void aTemplateThatCannotRenderAnInstanceNeverFailsTheReport() throws Exception {
    StackdriverHandler h = handler(params().putLogInfo(ACCESS, LogInfo.newBuilder()
        .setPayloadTemplate("{{.timestamp.Format \"Mon Jan _2 15:04:05 MST 2006\"}} {{.url.Format \"2006\"}}").build())
        .build());
    h.handleLogEntry(List.of(access(1)));
    h.writeEntries();
    assertThat(fake.logEntries()).singleElement().extracting(LogEntry::getTextPayload)
        .isEqualTo("Tue Oct 10 10:11:12 UTC 2017 <no value>");
  }
}
