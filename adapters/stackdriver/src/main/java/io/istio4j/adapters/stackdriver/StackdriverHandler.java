package io.istio4j.adapters.stackdriver;

import com.google.api.LabelDescriptor;
import com.google.api.MetricDescriptor;
import com.google.api.MonitoredResource;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.api.gax.rpc.StatusCode;
import com.google.devtools.cloudtrace.v2.AttributeValue;
import com.google.devtools.cloudtrace.v2.BatchWriteSpansRequest;
import com.google.devtools.cloudtrace.v2.Span;
import com.google.devtools.cloudtrace.v2.TruncatableString;
import com.google.logging.type.HttpRequest;
import com.google.logging.type.LogSeverity;
import com.google.logging.v2.LogEntry;
import com.google.logging.v2.WriteLogEntriesRequest;
import com.google.monitoring.v3.CreateTimeSeriesRequest;
import com.google.monitoring.v3.CreateTimeSeriesSummary;
import com.google.monitoring.v3.TimeSeries;
import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.adapters.stackdriver.StackdriverConfig.LogTarget;
import io.istio4j.adapters.stackdriver.config.Params.LogInfo.HttpRequestMapping;
import io.istio4j.template.logentry.LogEntryHandler;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.tracespan.TraceSpanHandler;
import io.istio4j.template.tracespan.TraceSpanInstance;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;

/**
 * Writes metric, logentry and tracespan instances to Cloud Monitoring, Cloud Logging and Cloud
 * Trace. The request path never waits for Google: metric instances are aggregated in a bounded
 * {@link SeriesTable}, log entries and spans are built and put in bounded queues, and whatever does
 * not fit is dropped and counted in Mixer's {@code stackdriver_dropped_total{signal,reason}}. A
 * daemon of the handler pushes the series every {@code push_interval} (at most 200 per
 * CreateTimeSeries, one point per series) and writes queued entries and spans every {@code
 * flush_interval} or as soon as a batch is full; closing the handler flushes once more.
 */
final class StackdriverHandler implements MetricHandler, LogEntryHandler, TraceSpanHandler {

  /** CreateTimeSeries accepts at most this many series per request. */
  static final int MAX_SERIES_PER_REQUEST = 200;

  /** Cloud Monitoring keeps at most this many characters of a label value. */
  static final int MAX_LABEL_VALUE_LENGTH = 1024;

  static final String DROPPED_METRIC = "stackdriver_dropped";
  static final String WRITTEN_METRIC = "stackdriver_written";

  static final String METRIC = "metric";
  static final String LOG = "log";
  static final String SPAN = "span";

  static final String SERIES_LIMIT = "series_limit";
  static final String BAD_VALUE = "bad_value";
  static final String NO_CONFIG = "no_config";
  static final String BUFFER_FULL = "buffer_full";
  /** A call failed for a reason that may pass (unavailable, deadline, internal), after its retries. */
  static final String API_ERROR = "api_error";
  /** The API refused these points or entries as invalid: retrying cannot help. */
  static final String REJECTED = "rejected";
  /** The API refused the caller (permission, credentials, project not found): the operator must act. */
  static final String DENIED = "denied";

  private final StackdriverConfig config;
  private final Clients clients;
  private final Env env;
  private final Clock clock;
  private final Logger log;
  private final RateLimitedLogger warnings;
  private final Counter dropped;
  private final Counter written;
  private final SeriesTable series;
  private final BlockingQueue<LogEntry> entries;
  private final BlockingQueue<Span> spans;
  private final Set<String> descriptorsReady = new HashSet<>();
  private final ReentrantLock flushing = new ReentrantLock();
  private final Object wakeUp = new Object();
  private volatile boolean closed;
  /** Whether the last call failed with UNAVAILABLE or a deadline: then close() does not wait for the API again. */
  private volatile boolean apiDown;

  StackdriverHandler(StackdriverConfig config, Clients clients, Env env) {
    this.config = config;
    this.clients = clients;
    this.env = env;
    this.clock = env.clock();
    this.log = env.logger();
    this.warnings = RateLimitedLogger.of(log, 5, Duration.ofMinutes(1), clock);
    this.dropped = env.metrics().counter(DROPPED_METRIC,
        "Instances the stackdriver adapter could not write, by signal (metric, log, span) and reason",
        "signal", "reason");
    this.written = env.metrics().counter(WRITTEN_METRIC,
        "Time series, log entries and spans the stackdriver adapter wrote", "signal");
    this.series = new SeriesTable(config.maxSeries());
    this.entries = new ArrayBlockingQueue<>(config.maxBufferedEntries());
    this.spans = new ArrayBlockingQueue<>(config.maxBufferedEntries());
  }

  /** Starts the daemon that pushes and writes in the background. */
  void start() {
    env.scheduleDaemon(this::run);
  }

  // ---- request path ----

  @Override
  public void handleMetric(List<MetricInstance> instances) {
    Instant now = clock.instant();
    for (MetricInstance instance : instances) {
      MetricTarget target = config.metrics().get(instance.name());
      if (target == null) {
        drop(METRIC, NO_CONFIG, "no metric_info for instance '{}'", instance.name());
        continue;
      }
      Object value = MetricValues.convert(target, instance.value());
      if (value == null) {
        drop(METRIC, BAD_VALUE, "instance '{}': value {} is not a {}", instance.name(),
            GoValues.format(instance.value()), target.valueType());
        continue;
      }
      List<String> keys = target.labelKeys();
      String[] values = new String[keys.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = labelValue(instance.dimensions().get(keys.get(i)));
      }
      String resourceType = instance.monitoredResourceType();
      Map<String, String> resourceLabels;
      if (resourceType.isEmpty()) {
        resourceType = "global";
        resourceLabels = Map.of("project_id", config.projectId());
      } else {
        resourceLabels = stringify(instance.monitoredResourceDimensions());
      }
      SeriesTable.Key key = new SeriesTable.Key(target, List.of(values), resourceType, resourceLabels);
      if (!series.record(key, value, now)) {
        drop(METRIC, SERIES_LIMIT, "instance '{}': {} series held (max_series); new series are dropped until"
            + " the next push", instance.name(), config.maxSeries());
      }
    }
  }

  @Override
  public void handleLogEntry(List<LogEntryInstance> instances) {
    for (LogEntryInstance instance : instances) {
      LogTarget target = config.logs().get(instance.name());
      if (target == null) {
        drop(LOG, NO_CONFIG, "no log_info for instance '{}'", instance.name());
        continue;
      }
      LogEntry entry;
      try {
        entry = entry(target, instance);
      } catch (RuntimeException e) {
        // A template that cannot render this instance must not fail the Report.
        drop(LOG, BAD_VALUE, "instance '{}': cannot build the log entry: {}", instance.name(), e.toString());
        continue;
      }
      if (!entries.offer(entry)) {
        drop(LOG, BUFFER_FULL, "{} log entries wait for Cloud Logging (max_buffered_entries); dropping",
            config.maxBufferedEntries());
        continue;
      }
      if (entries.size() >= config.batchSize()) {
        wake();
      }
    }
  }

  @Override
  public void handleTraceSpan(List<TraceSpanInstance> instances) {
    for (TraceSpanInstance instance : instances) {
      Span span = span(instance);
      if (span == null) {
        drop(SPAN, BAD_VALUE, "instance '{}': trace_id '{}' / span_id '{}' are not 32 / 16 hex digits",
            instance.name(), GoValues.format(instance.traceId()), GoValues.format(instance.spanId()));
        continue;
      }
      if (!spans.offer(span)) {
        drop(SPAN, BUFFER_FULL, "{} spans wait for Cloud Trace (max_buffered_entries); dropping",
            config.maxBufferedEntries());
        continue;
      }
      if (spans.size() >= config.batchSize()) {
        wake();
      }
    }
  }

  private void drop(String signal, String reason, String format, Object... args) {
    dropped.labelValues(signal, reason).inc();
    warnings.warn(format, args);
  }

  private void wake() {
    synchronized (wakeUp) {
      wakeUp.notifyAll();
    }
  }

  static String labelValue(Object value) {
    String s = value == null ? "" : value instanceof String str ? str : GoValues.format(value);
    return s.length() > MAX_LABEL_VALUE_LENGTH ? s.substring(0, MAX_LABEL_VALUE_LENGTH) : s;
  }

  private static Map<String, String> stringify(Map<String, Object> values) {
    Map<String, String> out = new HashMap<>(values.size() * 2);
    values.forEach((k, v) -> out.put(k, labelValue(v)));
    return out;
  }

  // ---- building entries and spans ----

  LogEntry entry(LogTarget target, LogEntryInstance instance) {
    Map<String, Object> vars = instance.variables();
    LogEntry.Builder e = LogEntry.newBuilder()
        .setLogName("projects/" + config.projectId() + "/logs/"
            + URLEncoder.encode(instance.name(), StandardCharsets.UTF_8))
        .setTimestamp(SeriesTable.timestamp(instance.timestamp()))
        .setSeverity(severity(instance.severity()));
    if (instance.monitoredResourceType().isEmpty()) {
      e.setResource(MonitoredResource.newBuilder().setType("global").putLabels("project_id", config.projectId()));
    } else {
      e.setResource(MonitoredResource.newBuilder().setType(instance.monitoredResourceType())
          .putAllLabels(stringify(instance.monitoredResourceDimensions())));
    }
    for (String label : target.labelNames()) {
      Object v = vars.get(label);
      if (v != null) {
        e.putLabels(label, labelValue(v));
      }
    }
    if (target.template() != null) {
      Map<String, Object> scope = vars;
      if (!vars.containsKey("timestamp")) {
        // Upstream's templates read .timestamp, which Go found only if a variable had that name.
        scope = new HashMap<>(vars);
        scope.put("timestamp", instance.timestamp());
      }
      e.setTextPayload(target.template().render(scope));
    } else {
      Struct.Builder json = Struct.newBuilder();
      vars.forEach((k, v) -> json.putFields(k, jsonValue(v)));
      e.setJsonPayload(json);
    }
    if (target.http() != null) {
      e.setHttpRequest(httpRequest(target.http(), vars));
    }
    return e.build();
  }

  static LogSeverity severity(String s) {
    String upper = s.trim().toUpperCase(Locale.ROOT);
    if (upper.equals("WARN")) {
      return LogSeverity.WARNING;
    }
    try {
      LogSeverity severity = LogSeverity.valueOf(upper);
      return severity == LogSeverity.UNRECOGNIZED ? LogSeverity.DEFAULT : severity;
    } catch (IllegalArgumentException e) {
      return LogSeverity.DEFAULT;
    }
  }

  static Value jsonValue(Object v) {
    if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    }
    if (v instanceof Long || v instanceof Integer || v instanceof Double) {
      return Value.newBuilder().setNumberValue(((Number) v).doubleValue()).build();
    }
    if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    }
    if (v instanceof Collection<?> c) {
      ListValue.Builder list = ListValue.newBuilder();
      c.forEach(o -> list.addValues(jsonValue(o)));
      return Value.newBuilder().setListValue(list).build();
    }
    return Value.newBuilder().setStringValue(v == null ? "" : GoValues.format(v)).build();
  }

  private static HttpRequest httpRequest(HttpRequestMapping m, Map<String, Object> vars) {
    HttpRequest.Builder h = HttpRequest.newBuilder();
    Long status = MetricValues.asLong(vars.get(m.getStatus()));
    if (status != null && !m.getStatus().isEmpty()) {
      h.setStatus(status.intValue());
    }
    Long requestSize = MetricValues.asLong(vars.get(m.getRequestSize()));
    if (requestSize != null && !m.getRequestSize().isEmpty()) {
      h.setRequestSize(requestSize);
    }
    Long responseSize = MetricValues.asLong(vars.get(m.getResponseSize()));
    if (responseSize != null && !m.getResponseSize().isEmpty()) {
      h.setResponseSize(responseSize);
    }
    Duration latency = MetricValues.asDuration(vars.get(m.getLatency()));
    if (latency != null && !m.getLatency().isEmpty()) {
      h.setLatency(com.google.protobuf.Duration.newBuilder().setSeconds(latency.getSeconds())
          .setNanos(latency.getNano()));
    }
    Object local = vars.get(m.getLocalIp());
    if (local != null && !m.getLocalIp().isEmpty()) {
      h.setServerIp(GoValues.format(local));
    }
    Object remote = vars.get(m.getRemoteIp());
    if (remote != null && !m.getRemoteIp().isEmpty()) {
      h.setRemoteIp(GoValues.format(remote));
    }
    return h.build();
  }

  /** Cloud Trace v2's span, or null when the ids are not hex of the right length. */
  Span span(TraceSpanInstance s) {
    String traceId = s.traceId().toLowerCase(Locale.ROOT);
    String spanId = s.spanId().toLowerCase(Locale.ROOT);
    String parent = s.parentSpanId().toLowerCase(Locale.ROOT);
    if (!isHex(traceId, 32) || !isHex(spanId, 16) || !(parent.isEmpty() || isHex(parent, 16))) {
      return null;
    }
    Span.Attributes.Builder attributes = Span.Attributes.newBuilder();
    int kept = 0;
    for (Map.Entry<String, Object> tag : s.spanTags().entrySet()) {
      if (kept++ == 32) { // the API keeps at most 32 attributes per span
        attributes.setDroppedAttributesCount(s.spanTags().size() - 32);
        break;
      }
      Object v = tag.getValue();
      AttributeValue.Builder a = AttributeValue.newBuilder();
      if (v instanceof Long l) {
        a.setIntValue(l);
      } else if (v instanceof Boolean b) {
        a.setBoolValue(b);
      } else {
        a.setStringValue(truncatable(v == null ? "" : GoValues.format(v), 256));
      }
      attributes.putAttributeMap(truncate(tag.getKey(), 128), a.build());
    }
    Span.Builder span = Span.newBuilder()
        .setName("projects/" + config.projectId() + "/traces/" + traceId + "/spans/" + spanId)
        .setSpanId(spanId)
        .setDisplayName(truncatable(s.spanName(), 128))
        .setStartTime(SeriesTable.timestamp(s.startTime()))
        .setEndTime(SeriesTable.timestamp(s.endTime()))
        .setAttributes(attributes);
    if (!parent.isEmpty()) {
      span.setParentSpanId(parent);
    }
    return span.build();
  }

  private static TruncatableString truncatable(String s, int maxBytes) {
    String kept = truncate(s, maxBytes);
    return TruncatableString.newBuilder().setValue(kept)
        .setTruncatedByteCount(s.getBytes(StandardCharsets.UTF_8).length - kept.getBytes(StandardCharsets.UTF_8).length)
        .build();
  }

  private static String truncate(String s, int maxBytes) {
    if (s.length() * 3 <= maxBytes || s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return s;
    }
    int end = Math.min(s.length(), maxBytes);
    while (s.substring(0, end).getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      end--;
    }
    return s.substring(0, end);
  }

  private static boolean isHex(String s, int length) {
    if (s.length() != length) {
      return false;
    }
    boolean nonZero = false;
    for (int i = 0; i < length; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
      nonZero |= c != '0';
    }
    return nonZero;
  }

  // ---- background ----

  /** The daemon: push metrics every push_interval, write entries and spans every flush_interval. */
  private void run() {
    long pushEvery = config.pushInterval().toNanos();
    long flushEvery = config.flushInterval().toNanos();
    long nextPush = System.nanoTime() + pushEvery;
    long nextFlush = System.nanoTime() + flushEvery;
    while (!closed && !Thread.currentThread().isInterrupted()) {
      try {
        long now = System.nanoTime();
        long wait = Math.min(nextPush, nextFlush) - now;
        if (wait > 0 && entries.size() < config.batchSize() && spans.size() < config.batchSize()) {
          synchronized (wakeUp) {
            TimeUnit.NANOSECONDS.timedWait(wakeUp, wait);
          }
        }
        if (closed) {
          return;
        }
        now = System.nanoTime();
        if (now - nextPush >= 0) {
          nextPush = now + pushEvery;
          pushMetrics();
        }
        if (now - nextFlush >= 0 || entries.size() >= config.batchSize() || spans.size() >= config.batchSize()) {
          nextFlush = now + flushEvery;
          writeEntries();
          writeSpans();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.warn("stackdriver flush failed: {}", e.toString());
      }
    }
  }

  /** Series held now (for tests and the benchmark). */
  int seriesHeld() {
    return series.size();
  }

  /** Entries waiting to be written. */
  int entriesQueued() {
    return entries.size();
  }

  /**
   * Pushes one point per active series: descriptors first, then batches of at most 200 series. A
   * batch the API partly refuses is not sent again (its good points are written; resending them
   * would be refused as out of order): the summary in the error's details says how many points were
   * written and why the others were not. Once a batch fails because the API is down or too slow,
   * the rest of this push is dropped at once rather than waiting out a deadline per batch.
   */
  void pushMetrics() {
    flushing.lock();
    try {
      ensureDescriptors();
      List<TimeSeries> all = series.collect(clock.instant());
      String project = "projects/" + config.projectId();
      boolean outage = false;
      for (int from = 0; from < all.size(); from += MAX_SERIES_PER_REQUEST) {
        List<TimeSeries> batch = all.subList(from, Math.min(all.size(), from + MAX_SERIES_PER_REQUEST));
        if (outage) {
          dropped.labelValues(METRIC, API_ERROR).inc(batch.size());
          continue;
        }
        try {
          clients.metrics.createTimeSeries(CreateTimeSeriesRequest.newBuilder().setName(project)
              .addAllTimeSeries(batch).build());
          written.labelValues(METRIC).inc(batch.size());
          apiDown = false;
          env.clearError();
        } catch (ApiException e) {
          countFailedPoints(batch.size(), e);
          failed("CreateTimeSeries", batch.size() + " time series", e);
          outage = isOutage(e);
        }
      }
    } finally {
      flushing.unlock();
    }
  }

  /**
   * Counts the points of a failed CreateTimeSeries: written and dropped per cause from the
   * CreateTimeSeriesSummary the API puts in the error's details, else all dropped for the call's
   * own status.
   */
  private void countFailedPoints(int points, ApiException e) {
    CreateTimeSeriesSummary summary = summary(e);
    if (summary == null) {
      dropped.labelValues(METRIC, reason(e.getStatusCode().getCode())).inc(points);
      return;
    }
    int success = Math.max(0, Math.min(points, summary.getSuccessPointCount()));
    written.labelValues(METRIC).inc(success);
    int accounted = success;
    for (CreateTimeSeriesSummary.Error error : summary.getErrorsList()) {
      int n = Math.max(0, Math.min(points - accounted, error.getPointCount()));
      Code code = Code.forNumber(error.getStatus().getCode());
      dropped.labelValues(METRIC, reason(code == null ? StatusCode.Code.UNKNOWN
          : StatusCode.Code.valueOf(code.name()))).inc(n);
      accounted += n;
    }
    if (accounted < points) {
      dropped.labelValues(METRIC, reason(e.getStatusCode().getCode())).inc(points - accounted);
    }
  }

  private static CreateTimeSeriesSummary summary(ApiException e) {
    try {
      return e.getErrorDetails() == null ? null : e.getErrorDetails().getMessage(CreateTimeSeriesSummary.class);
    } catch (RuntimeException unreadable) {
      return null;
    }
  }

  /** The {@code reason} label of points or entries a call with this status did not write. */
  static String reason(StatusCode.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS -> REJECTED;
      case PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND -> DENIED;
      default -> API_ERROR;
    };
  }

  /** Whether the API looks down or stalled: then the rest of a round is not attempted. */
  private static boolean isOutage(ApiException e) {
    StatusCode.Code code = e.getStatusCode().getCode();
    return code == StatusCode.Code.UNAVAILABLE || code == StatusCode.Code.DEADLINE_EXCEEDED;
  }

  private void ensureDescriptors() {
    for (MetricTarget t : config.metrics().values()) {
      if (descriptorsReady.contains(t.metricType())) {
        continue;
      }
      String name = "projects/" + config.projectId() + "/metricDescriptors/" + t.metricType();
      try {
        try {
          clients.metrics.getMetricDescriptor(name);
        } catch (NotFoundException missing) {
          MetricDescriptor.Builder d = MetricDescriptor.newBuilder()
              .setType(t.metricType()).setMetricKind(t.writtenKind()).setValueType(t.valueType())
              .setDisplayName(t.instance()).setDescription("Istio metric instance " + t.instance());
          for (String label : t.labelKeys()) {
            d.addLabels(LabelDescriptor.newBuilder().setKey(label).setValueType(LabelDescriptor.ValueType.STRING));
          }
          clients.metrics.createMetricDescriptor("projects/" + config.projectId(), d.build());
          log.info("created metric descriptor {}", t.metricType());
        }
        descriptorsReady.add(t.metricType());
      } catch (ApiException e) {
        failed("CreateMetricDescriptor", t.metricType(), e);
      }
    }
  }

  /** Writes queued log entries, batch_size per call, until the queue is empty or a call fails. */
  void writeEntries() {
    flushing.lock();
    try {
      List<LogEntry> batch = new ArrayList<>(config.batchSize());
      while (entries.drainTo(batch, config.batchSize()) > 0) {
        try {
          clients.logging.writeLogEntries(WriteLogEntriesRequest.newBuilder().addAllEntries(batch).build());
          written.labelValues(LOG).inc(batch.size());
          apiDown = false;
        } catch (ApiException e) {
          dropped.labelValues(LOG, reason(e.getStatusCode().getCode())).inc(batch.size());
          failed("WriteLogEntries", batch.size() + " log entries", e);
          if (isOutage(e)) {
            return; // the rest stays queued (bounded) for the next flush instead of waiting out deadlines now
          }
        }
        batch.clear();
      }
    } finally {
      flushing.unlock();
    }
  }

  /** Writes queued spans, batch_size per call. */
  void writeSpans() {
    flushing.lock();
    try {
      List<Span> batch = new ArrayList<>(config.batchSize());
      while (spans.drainTo(batch, config.batchSize()) > 0) {
        try {
          clients.trace.batchWriteSpans(BatchWriteSpansRequest.newBuilder()
              .setName("projects/" + config.projectId()).addAllSpans(batch).build());
          written.labelValues(SPAN).inc(batch.size());
        } catch (ApiException e) {
          dropped.labelValues(SPAN, reason(e.getStatusCode().getCode())).inc(batch.size());
          failed("BatchWriteSpans", batch.size() + " spans", e);
          if (isOutage(e)) {
            return;
          }
        }
        batch.clear();
      }
    } finally {
      flushing.unlock();
    }
  }

  private void failed(String call, String what, ApiException e) {
    StatusCode.Code code = e.getStatusCode().getCode();
    apiDown = code == StatusCode.Code.UNAVAILABLE || code == StatusCode.Code.DEADLINE_EXCEEDED;
    warnings.warn("stackdriver {} of {} failed: {} {}", call, what, code, e.getMessage());
    if (code == StatusCode.Code.INVALID_ARGUMENT || code == StatusCode.Code.PERMISSION_DENIED
        || code == StatusCode.Code.UNAUTHENTICATED || code == StatusCode.Code.NOT_FOUND) {
      // Not an outage: something the operator has to fix (config, project, credentials).
      env.reportError(call + " refused: " + code + " " + e.getMessage());
    }
  }

  @Override
  public void close() {
    closed = true;
    wake();
    try {
      // The last interval's points and the queued entries are not lost on a config change or
      // shutdown; but a close must not wait out deadlines on an API that was just seen down.
      if (apiDown) {
        log.warn("stackdriver API unavailable at close: {} series and {} log entries not written",
            series.size(), entries.size());
        return;
      }
      pushMetrics();
      writeEntries();
      writeSpans();
    } catch (RuntimeException e) {
      log.warn("stackdriver final flush failed: {}", e.toString());
    } finally {
      clients.close();
    }
  }
}
