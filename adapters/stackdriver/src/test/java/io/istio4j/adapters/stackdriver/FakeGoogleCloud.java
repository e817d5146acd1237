package io.istio4j.adapters.stackdriver;

import com.google.api.MetricDescriptor;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.devtools.cloudtrace.v2.BatchWriteSpansRequest;
import com.google.devtools.cloudtrace.v2.Span;
import com.google.devtools.cloudtrace.v2.TraceServiceGrpc;
import com.google.logging.v2.LogEntry;
import com.google.logging.v2.WriteLogEntriesRequest;
import com.google.logging.v2.WriteLogEntriesResponse;
import com.google.monitoring.v3.CreateMetricDescriptorRequest;
import com.google.monitoring.v3.CreateTimeSeriesRequest;
import com.google.monitoring.v3.CreateTimeSeriesSummary;
import com.google.monitoring.v3.GetMetricDescriptorRequest;
import com.google.monitoring.v3.MetricServiceGrpc;
import com.google.monitoring.v3.Point;
import com.google.monitoring.v3.TimeSeries;
import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.Timestamps;
import com.google.rpc.Code;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * An in-process stand-in for Cloud Monitoring v3 ({@code MetricService}), Cloud Logging v2
 * ({@code LoggingServiceV2.WriteLogEntries}) and Cloud Trace v2 ({@code BatchWriteSpans}) on a
 * localhost port, for Google's real client libraries to talk to over plaintext. It records what
 * it accepts and refuses, with INVALID_ARGUMENT and the service's wording, what the real services
 * refuse: more than 200 series or more than one point per series in a CreateTimeSeries, points out
 * of order, a CUMULATIVE start time that moves without a reset, a GAUGE with an interval, label
 * values over 1024 characters, values that do not match the metric descriptor, malformed log names
 * and span names. {@link #down()} answers UNAVAILABLE; {@link #stall()} holds every call until
 * {@link #release()}.
 */
public final class FakeGoogleCloud implements AutoCloseable {

  static final Pattern LOG_NAME = Pattern.compile("projects/[^/]+/logs/[^/]+");
  static final Pattern SPAN_NAME = Pattern.compile("projects/[^/]+/traces/[0-9a-f]{32}/spans/[0-9a-f]{16}");

  /** Every CreateTimeSeries request the fake accepted. */
  public final List<CreateTimeSeriesRequest> timeSeriesRequests = new CopyOnWriteArrayList<>();
  /** Every request refused, as "Method: STATUS: message". */
  public final List<String> refusals = new CopyOnWriteArrayList<>();
  /** Every WriteLogEntries request accepted. */
  public final List<WriteLogEntriesRequest> logRequests = new CopyOnWriteArrayList<>();
  /** Every BatchWriteSpans request accepted. */
  public final List<BatchWriteSpansRequest> spanRequests = new CopyOnWriteArrayList<>();
  /** CreateTimeSeries calls received, refused ones included. */
  public final AtomicInteger createTimeSeriesCalls = new AtomicInteger();
  /** Metric descriptors by type. */
  public final Map<String, MetricDescriptor> descriptors = new HashMap<>();

  private final Map<String, Point> lastPoint = new HashMap<>();
  private final Server server;
  private volatile boolean down;
  private volatile CountDownLatch stall = new CountDownLatch(0);
  private final AtomicInteger stalled = new AtomicInteger();

  private FakeGoogleCloud(int port) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
        .addService(new Monitoring())
        .addService(logging())
        .addService(new Trace())
        .build()
        .start();
  }

  /** Starts a fake on a free localhost port. */
  public static FakeGoogleCloud start() throws IOException {
    return new FakeGoogleCloud(0);
  }

  /**
   * Runs the fake as a stand-alone emulator on localhost:{@code args[0]} (default 8085) for {@code
   * STACKDRIVER_EMULATOR_HOST}, printing what it accepts and refuses every second, e.g. {@code
   * ./mvnw -pl adapters/stackdriver exec:java -Dexec.classpathScope=test
   * -Dexec.mainClass=io.istio4j.adapters.stackdriver.FakeGoogleCloud -Dexec.args=8085}.
   */
  public static void main(String[] args) throws Exception {
    try (FakeGoogleCloud fake = new FakeGoogleCloud(args.length > 0 ? Integer.parseInt(args[0]) : 8085)) {
      System.out.println("FakeGoogleCloud listening on " + fake.endpoint());
      int series = 0;
      int entries = 0;
      int refused = 0;
      while (!Thread.currentThread().isInterrupted()) {
        List<TimeSeries> ts = fake.timeSeries();
        for (TimeSeries t : ts.subList(series, ts.size())) {
          System.out.println("time series " + t.getMetric().getType() + " " + t.getMetric().getLabelsMap() + " "
              + t.getMetricKind() + " " + t.getPoints(0).getValue().toString().replace('\n', ' '));
        }
        series = ts.size();
        List<LogEntry> es = fake.logEntries();
        for (LogEntry e : es.subList(entries, es.size())) {
          System.out.println("log entry " + e.getLogName() + " " + e.getSeverity() + " " + e.getTextPayload()
              + " " + e.getHttpRequest().toString().replace('\n', ' '));
        }
        entries = es.size();
        List<String> rs = List.copyOf(fake.refusals);
        rs.subList(refused, rs.size()).forEach(r -> System.out.println("refused " + r));
        refused = rs.size();
        Thread.sleep(1000);
      }
    }
  }

  /** host:port to point clients at. */
  public String endpoint() {
    return "localhost:" + server.getPort();
  }

  /** Every call answers UNAVAILABLE from now on. */
  public void down() {
    down = true;
  }

  /** Calls are served again. */
  public void up() {
    down = false;
  }

  /** Every call waits until {@link #release()}. */
  public void stall() {
    stall = new CountDownLatch(1);
  }

  /** Lets stalled calls go. */
  public void release() {
    stall.countDown();
  }

  /** Every time series accepted, in order. */
  public List<TimeSeries> timeSeries() {
    List<TimeSeries> out = new ArrayList<>();
    timeSeriesRequests.forEach(r -> out.addAll(r.getTimeSeriesList()));
    return out;
  }

  /** Every log entry accepted, in order. */
  public List<LogEntry> logEntries() {
    List<LogEntry> out = new ArrayList<>();
    logRequests.forEach(r -> out.addAll(r.getEntriesList()));
    return out;
  }

  /** Every span accepted, in order. */
  public List<Span> spans() {
    List<Span> out = new ArrayList<>();
    spanRequests.forEach(r -> out.addAll(r.getSpansList()));
    return out;
  }

  @Override
  public void close() throws Exception {
    release();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Waits until {@code n} calls are held by {@link #stall()}. */
  public void awaitStalledCalls(int n) throws InterruptedException {
    while (stalled.get() < n) {
      Thread.sleep(10);
    }
  }

  private <T> boolean gate(String method, StreamObserver<T> response) {
    try {
      if (stall.getCount() > 0) {
        stalled.incrementAndGet();
      }
      stall.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (down) {
      refuse(method, response, Status.UNAVAILABLE.withDescription("The service is currently unavailable."));
      return false;
    }
    return true;
  }

  private <T> void refuse(String method, StreamObserver<T> response, Status status) {
    refusals.add(method + ": " + status.getCode() + ": " + status.getDescription());
    response.onError(status.asRuntimeException());
  }

  private static Status invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message);
  }

  private final class Monitoring extends MetricServiceGrpc.MetricServiceImplBase {
    @Override
    public void getMetricDescriptor(GetMetricDescriptorRequest request, StreamObserver<MetricDescriptor> response) {
      if (!gate("GetMetricDescriptor", response)) {
        return;
      }
      String type = request.getName().replaceFirst("^projects/[^/]+/metricDescriptors/", "");
      MetricDescriptor d;
      synchronized (FakeGoogleCloud.this) {
        d = descriptors.get(type);
      }
      if (d == null) {
        response.onError(Status.NOT_FOUND.withDescription("Could not find descriptor for metric '" + type + "'.")
            .asRuntimeException());
        return;
      }
      response.onNext(d);
      response.onCompleted();
    }

    @Override
    public void createMetricDescriptor(CreateMetricDescriptorRequest request,
        StreamObserver<MetricDescriptor> response) {
      if (!gate("CreateMetricDescriptor", response)) {
        return;
      }
      MetricDescriptor d = request.getMetricDescriptor();
      if (d.getMetricKind() == MetricKind.METRIC_KIND_UNSPECIFIED) {
        refuse("CreateMetricDescriptor", response, invalid("Field metricDescriptor.metricKind had an invalid value of"
            + " \"METRIC_KIND_UNSPECIFIED\": The metric kind must be specified."));
        return;
      }
      if (d.getMetricKind() == MetricKind.DELTA && isUserDefined(d.getType())) {
        refuse("CreateMetricDescriptor", response, invalid("Field metricDescriptor.metricKind had an invalid value of"
            + " \"DELTA\": When creating metric " + d.getType() + ": the DELTA metric kind is not supported for"
            + " custom metrics."));
        return;
      }
      if (d.getLabelsCount() > 30) {
        refuse("CreateMetricDescriptor", response, invalid("Field metricDescriptor.labels had an invalid value:"
            + " The metric descriptor has " + d.getLabelsCount() + " labels; the maximum is 30."));
        return;
      }
      synchronized (FakeGoogleCloud.this) {
        descriptors.put(d.getType(), d);
      }
      response.onNext(d);
      response.onCompleted();
    }

    @Override
    public void createTimeSeries(CreateTimeSeriesRequest request, StreamObserver<Empty> response) {
      createTimeSeriesCalls.incrementAndGet();
      if (!gate("CreateTimeSeries", response)) {
        return;
      }
      synchronized (FakeGoogleCloud.this) {
        if (request.getTimeSeriesCount() > 200) {
          refuse("CreateTimeSeries", response, invalid("Field timeSeries had an invalid value: A maximum of 200"
              + " TimeSeries can be written in a single request."));
          return;
        }
        // Like the real service, each series is judged on its own: the good ones are written, and
        // the refusal lists the others and carries a CreateTimeSeriesSummary in its details.
        CreateTimeSeriesRequest.Builder accepted = request.toBuilder().clearTimeSeries();
        List<String> problems = new ArrayList<>();
        Map<String, Integer> pointsByProblem = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < request.getTimeSeriesCount(); i++) {
          TimeSeries ts = request.getTimeSeries(i);
          String problem = check(ts, "timeSeries[" + i + "]", seen);
          if (problem == null) {
            accepted.addTimeSeries(ts);
          } else {
            problems.add(problem + ": timeSeries[" + i + "]");
            pointsByProblem.merge(problem, Math.max(1, ts.getPointsCount()), Integer::sum);
          }
        }
        for (TimeSeries ts : accepted.getTimeSeriesList()) {
          lastPoint.put(seriesKey(ts), ts.getPoints(0));
        }
        if (accepted.getTimeSeriesCount() > 0) {
          timeSeriesRequests.add(accepted.build());
        }
        if (!problems.isEmpty()) {
          CreateTimeSeriesSummary.Builder summary = CreateTimeSeriesSummary.newBuilder()
              .setTotalPointCount(request.getTimeSeriesList().stream().mapToInt(TimeSeries::getPointsCount).sum())
              .setSuccessPointCount(accepted.getTimeSeriesCount());
          pointsByProblem.forEach((problem, points) -> summary.addErrors(CreateTimeSeriesSummary.Error.newBuilder()
              .setStatus(com.google.rpc.Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(problem))
              .setPointCount(points)));
          String message = "One or more TimeSeries could not be written: " + String.join("; ", problems);
          refusals.add("CreateTimeSeries: INVALID_ARGUMENT: " + message);
          response.onError(StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
              .setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(message).addDetails(Any.pack(summary.build()))
              .build()));
          return;
        }
      }
      response.onNext(Empty.getDefaultInstance());
      response.onCompleted();
    }
  }

  private static String seriesKey(TimeSeries ts) {
    return ts.getMetric().getType() + ts.getMetric().getLabelsMap() + ts.getResource().getType()
        + ts.getResource().getLabelsMap();
  }

  /** The first rule series {@code ts} (at {@code at} in its request) breaks, in the service's words, or null. */
  private String check(TimeSeries ts, String at, Set<String> seen) {
    if (ts.getPointsCount() != 1) {
      return "Field " + at + ".points had an invalid value: Only one point can be written per TimeSeries per"
          + " request.";
    }
    String key = seriesKey(ts);
    if (!seen.add(key)) {
      return "Field " + at + " had an invalid value: Duplicate TimeSeries encountered. Only one point can be"
          + " written per TimeSeries per request.";
    }
    for (Map.Entry<String, String> label : ts.getMetric().getLabelsMap().entrySet()) {
      if (label.getValue().length() > 1024) {
        return "Field " + at + ".metric.labels[" + label.getKey() + "] had an invalid value: Label value"
            + " exceeds the maximum length of 1024.";
      }
    }
    if (ts.getMetricKind() == MetricKind.DELTA && isUserDefined(ts.getMetric().getType())) {
      return "Field " + at + ".metricKind had an invalid value of \"DELTA\": the DELTA metric kind is not"
          + " supported for custom metrics.";
    }
    MetricDescriptor d = descriptors.get(ts.getMetric().getType());
    if (d != null && (d.getMetricKind() != ts.getMetricKind() || d.getValueType() != ts.getValueType())) {
      return "Field " + at + " had an invalid value: Value type for metric " + d.getType() + " must be "
          + d.getValueType() + " and kind " + d.getMetricKind() + ", but is " + ts.getValueType() + " and "
          + ts.getMetricKind() + ".";
    }
    Point p = ts.getPoints(0);
    Timestamp start = p.getInterval().getStartTime();
    Timestamp end = p.getInterval().getEndTime();
    boolean hasStart = p.getInterval().hasStartTime();
    switch (ts.getMetricKind()) {
      case GAUGE -> {
        if (hasStart && !start.equals(end)) {
          return "Field " + at + ".points[0].interval.start_time had an invalid value: The start time must be"
              + " equal to the end time for the gauge metric " + ts.getMetric().getType() + ".";
        }
      }
      case DELTA, CUMULATIVE -> {
        if (!hasStart || Timestamps.compare(start, end) >= 0) {
          return "Field " + at + ".points[0].interval.end_time had an invalid value: The end time must be later"
              + " than the start time for the " + ts.getMetricKind() + " metric " + ts.getMetric().getType() + ".";
        }
      }
      default -> {
        return "Field " + at + ".metricKind had an invalid value: " + ts.getMetricKind();
      }
    }
    Point last = lastPoint.get(key);
    if (last != null) {
      Timestamp lastEnd = last.getInterval().getEndTime();
      if (Timestamps.compare(end, lastEnd) <= 0) {
        return "Points must be written in order. One or more of the points specified had an older start time"
            + " than the most recent point.";
      }
      if (ts.getMetricKind() == MetricKind.DELTA && Timestamps.compare(start, lastEnd) < 0) {
        return "Field " + at + ".points[0].interval.start_time had an invalid value: The start time overlaps"
            + " the previous point of the DELTA metric " + ts.getMetric().getType() + ".";
      }
      if (ts.getMetricKind() == MetricKind.CUMULATIVE && !start.equals(last.getInterval().getStartTime())
          && Timestamps.compare(start, Timestamps.add(lastEnd, Durations.fromMillis(1))) < 0) {
        return "Field " + at + ".points[0].interval.start_time had an invalid value: The start time of a"
            + " CUMULATIVE point must stay the same, or be at least a millisecond after the previous end time"
            + " (a reset).";
      }
    }
    return null;
  }

  /** Custom and external metrics are user-defined: the kinds Cloud Monitoring takes for them are GAUGE and CUMULATIVE. */
  static boolean isUserDefined(String metricType) {
    return metricType.startsWith("custom.googleapis.com/") || metricType.startsWith("external.googleapis.com/");
  }

  private ServerServiceDefinition logging() {
    MethodDescriptor<WriteLogEntriesRequest, WriteLogEntriesResponse> write =
        MethodDescriptor.<WriteLogEntriesRequest, WriteLogEntriesResponse>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("google.logging.v2.LoggingServiceV2",
                "WriteLogEntries"))
            .setRequestMarshaller(ProtoUtils.marshaller(WriteLogEntriesRequest.getDefaultInstance()))
            .setResponseMarshaller(ProtoUtils.marshaller(WriteLogEntriesResponse.getDefaultInstance()))
            .build();
    return ServerServiceDefinition.builder("google.logging.v2.LoggingServiceV2")
        .addMethod(write, ServerCalls.asyncUnaryCall((request, response) -> {
          if (!gate("WriteLogEntries", response)) {
            return;
          }
          for (int i = 0; i < request.getEntriesCount(); i++) {
            LogEntry e = request.getEntries(i);
            String logName = e.getLogName().isEmpty() ? request.getLogName() : e.getLogName();
            if (!LOG_NAME.matcher(logName).matches()) {
              refuse("WriteLogEntries", response, invalid("Log name \"" + logName + "\" is invalid."
                  + " It must look like projects/[PROJECT_ID]/logs/[LOG_ID] with an URL-encoded LOG_ID."));
              return;
            }
            if (!e.hasResource() && !request.hasResource()) {
              refuse("WriteLogEntries", response, invalid("Field entries[" + i + "].resource had an invalid value:"
                  + " A monitored resource must be specified."));
              return;
            }
            if (e.getLabelsCount() > 64) {
              refuse("WriteLogEntries", response, invalid("Field entries[" + i + "].labels had an invalid value:"
                  + " at most 64 labels."));
              return;
            }
          }
          logRequests.add(request);
          response.onNext(WriteLogEntriesResponse.getDefaultInstance());
          response.onCompleted();
        }))
        .build();
  }

  private final class Trace extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void batchWriteSpans(BatchWriteSpansRequest request, StreamObserver<Empty> response) {
      if (!gate("BatchWriteSpans", response)) {
        return;
      }
      for (int i = 0; i < request.getSpansCount(); i++) {
        Span s = request.getSpans(i);
        if (!SPAN_NAME.matcher(s.getName()).matches() || !s.hasStartTime() || !s.hasEndTime()) {
          refuse("BatchWriteSpans", response, invalid("Field spans[" + i + "].name had an invalid value: \""
              + s.getName() + "\" (expected: projects/[PROJECT_ID]/traces/[TRACE_ID]/spans/[SPAN_ID])."));
          return;
        }
      }
      spanRequests.add(request);
      response.onNext(Empty.getDefaultInstance());
      response.onCompleted();
    }
  }
}
