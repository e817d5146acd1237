package io.istio4j.adapters.stackdriver;

import com.google.api.Distribution.BucketOptions;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapters.stackdriver.StackdriverConfig.LogTarget;
import io.istio4j.adapters.stackdriver.config.Params;
import io.istio4j.adapters.stackdriver.config.Params.LogInfo;
import io.istio4j.adapters.stackdriver.config.Params.LogInfo.HttpRequestMapping;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo;
import io.istio4j.adapters.stackdriver.config.Params.MetricInfo.BucketsDefinition;
import io.istio4j.template.logentry.LogEntryHandlerBuilder;
import io.istio4j.template.logentry.LogEntryType;
import io.istio4j.template.metric.MetricHandlerBuilder;
import io.istio4j.template.metric.MetricType;
import io.istio4j.template.tracespan.TraceSpanHandlerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Checks a stackdriver config against the instances bound to the handler and builds the handler.
 * Every problem names its field: {@code push_interval}, {@code
 * metric_info[requestcount.metric.istio-system].kind}, {@code log_info[...].payload_template}.
 */
final class StackdriverBuilder implements MetricHandlerBuilder<Params>, LogEntryHandlerBuilder<Params>,
    TraceSpanHandlerBuilder<Params> {

  /** Cloud Monitoring's limit on the labels of a user-defined metric. */
  static final int MAX_METRIC_LABELS = 30;

  /** Cloud Logging's limit on the labels of an entry. */
  static final int MAX_LOG_LABELS = 64;

  /** More bounds than this is a typo, not a histogram. */
  static final int MAX_FINITE_BUCKETS = 1000;

  /** Metric label keys as Cloud Monitoring accepts them. */
  static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,99}");

  /** Cloud Monitoring refuses points written to a series more often than this. */
  static final Duration MIN_PUSH_INTERVAL = Duration.ofSeconds(5);

  private final Function<String, String> environment;
  private Params params;
  private Map<String, MetricType> metricTypes;
  private Map<String, LogEntryType> logTypes;
  private StackdriverConfig validated;

  StackdriverBuilder() {
    this(System::getenv);
  }

  /** A builder reading {@link Clients#EMULATOR_ENV} from {@code environment}. */
  StackdriverBuilder(Function<String, String> environment) {
    this.environment = environment;
  }

  @Override
  public void setMetricTypes(Map<String, MetricType> types) {
    this.metricTypes = Map.copyOf(types);
  }

  @Override
  public void setLogEntryTypes(Map<String, LogEntryType> types) {
    this.logTypes = Map.copyOf(types);
  }

  @Override
  public void setAdapterConfig(Params config) {
    this.params = config;
    this.validated = null;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    Params p = params;
    if (p.getProjectId().isBlank()) {
      errors.add("project_id", "empty (expected: the Google Cloud project to write to)");
    }
    if (!p.getEndpoint().isEmpty() && !isHostPort(p.getEndpoint())) {
      errors.add("endpoint", "'" + p.getEndpoint() + "' (expected: host:port, such as monitoring.googleapis.com:443)");
    }
    Duration push = duration(p.hasPushInterval(), p.getPushInterval(), StackdriverConfig.DEFAULT_PUSH_INTERVAL,
        "push_interval", MIN_PUSH_INTERVAL, Duration.ofHours(1), errors);
    Duration timeout = duration(p.hasTimeout(), p.getTimeout(), StackdriverConfig.DEFAULT_TIMEOUT, "timeout",
        Duration.ofMillis(100), Duration.ofMinutes(5), errors);
    Duration flush = duration(p.hasFlushInterval(), p.getFlushInterval(), StackdriverConfig.DEFAULT_FLUSH_INTERVAL,
        "flush_interval", Duration.ofMillis(10), Duration.ofMinutes(10), errors);
    int maxSeries = count(p.getMaxSeries(), StackdriverConfig.DEFAULT_MAX_SERIES, "max_series", 1_000_000, errors);
    int maxBuffered = count(p.getMaxBufferedEntries(), StackdriverConfig.DEFAULT_MAX_BUFFERED_ENTRIES,
        "max_buffered_entries", 1_000_000, errors);
    int batchSize = count(p.getBatchSize(), StackdriverConfig.DEFAULT_BATCH_SIZE, "batch_size", 1000, errors);
    int maxAttempts = count(p.getMaxAttempts(), StackdriverConfig.DEFAULT_MAX_ATTEMPTS, "max_attempts", 10, errors);
    switch (p.getCredsCase()) {
      case API_KEY -> {
        if (p.getApiKey().isBlank()) {
          errors.add("api_key", "empty (expected: an API key, or another credential)");
        }
      }
      case SERVICE_ACCOUNT_PATH -> {
        if (p.getServiceAccountPath().isBlank()) {
          errors.add("service_account_path", "empty (expected: the path of a service account JSON key)");
        } else {
          try {
            Clients.credentials(config(p, push, timeout, flush, maxSeries, maxBuffered, batchSize, maxAttempts,
                Map.of(), Map.of()));
          } catch (IOException e) {
            errors.add("service_account_path", e.getMessage().substring("service_account_path: ".length()));
          }
        }
      }
      default -> { }
    }

    Map<String, MetricTarget> metrics = new LinkedHashMap<>();
    for (Map.Entry<String, MetricInfo> e : new TreeMap<>(p.getMetricInfoMap()).entrySet()) {
      MetricTarget t = metric(e.getKey(), e.getValue(), "metric_info[" + e.getKey() + "]", errors);
      if (t != null) {
        metrics.put(e.getKey(), t);
      }
    }
    Map<String, LogTarget> logs = new LinkedHashMap<>();
    for (Map.Entry<String, LogInfo> e : new TreeMap<>(p.getLogInfoMap()).entrySet()) {
      LogTarget t = log(e.getKey(), e.getValue(), "log_info[" + e.getKey() + "]", errors);
      if (t != null) {
        logs.put(e.getKey(), t);
      }
    }
    if (metricTypes != null) {
      for (String instance : new TreeSet<>(metricTypes.keySet())) {
        if (!p.containsMetricInfo(instance)) {
          errors.add("metric_info", "no entry for metric instance '" + instance
              + "', which a rule sends to this handler (expected: metric_info['" + instance + "'])");
        }
      }
    }
    if (logTypes != null) {
      for (String instance : new TreeSet<>(logTypes.keySet())) {
        if (!p.containsLogInfo(instance)) {
          errors.add("log_info", "no entry for logentry instance '" + instance
              + "', which a rule sends to this handler (expected: log_info['" + instance + "'])");
        }
      }
    }
    validated = errors.isEmpty()
        ? config(p, push, timeout, flush, maxSeries, maxBuffered, batchSize, maxAttempts, metrics, logs) : null;
    return errors;
  }

  private static StackdriverConfig config(Params p, Duration push, Duration timeout, Duration flush, int maxSeries,
      int maxBuffered, int batchSize, int maxAttempts, Map<String, MetricTarget> metrics, Map<String, LogTarget> logs) {
    return new StackdriverConfig(p.getProjectId(), push, p.getApiKey(), p.getServiceAccountPath(), timeout,
        maxSeries, maxBuffered, batchSize, flush, maxAttempts, Map.copyOf(metrics), Map.copyOf(logs));
  }

  /** The last successful validation's result, or null. */
  StackdriverConfig validated() {
    return validated;
  }

  @Override
  public Handler build(Env env) throws IOException {
    if (validated == null) {
      ConfigErrors errors = validate();
      if (!errors.isEmpty()) {
        throw new IllegalStateException("invalid config: " + errors);
      }
    }
    String emulator = environment.apply(Clients.EMULATOR_ENV);
    Clients.Connection connection;
    if (emulator != null && !emulator.isBlank()) {
      env.logger().warn("{} is set: writing to {} over plaintext without credentials, not to Google Cloud",
          Clients.EMULATOR_ENV, emulator);
      connection = new Clients.Connection(emulator.trim(), true, validated.timeout(), validated.maxAttempts());
    } else {
      connection = new Clients.Connection(params.getEndpoint(), false, validated.timeout(), validated.maxAttempts());
    }
    for (MetricTarget t : validated.metrics().values()) {
      if (t.kind() == MetricKind.DELTA) {
        // Upstream's own stackdriver.yaml says DELTA; today's API answers INVALID_ARGUMENT to it.
        env.logger().warn("metric_info[{}].kind: DELTA is not supported by Cloud Monitoring for user-defined"
            + " metrics; {} is written as CUMULATIVE with its start time reset every push_interval, so each"
            + " point still holds one interval's sum", t.instance(), t.metricType());
      }
    }
    StackdriverHandler handler = new StackdriverHandler(validated, Clients.create(validated, connection), env);
    handler.start();
    return handler;
  }

  // ---- fields ----

  private static boolean isHostPort(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      return false;
    }
    try {
      int port = Integer.parseInt(s.substring(colon + 1));
      return port >= 1 && port <= 65535;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static Duration duration(boolean set, com.google.protobuf.Duration value, Duration fallback, String field,
      Duration min, Duration max, ConfigErrors errors) {
    if (!set) {
      return fallback;
    }
    Duration d;
    try {
      d = Duration.ofSeconds(Durations.checkValid(value).getSeconds(), value.getNanos());
    } catch (IllegalArgumentException e) {
      errors.add(field, e.getMessage());
      return fallback;
    }
    if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
      errors.add(field, Durations.toString(value) + " (expected: " + Durations.toString(toProto(min)) + " to "
          + Durations.toString(toProto(max)) + ")");
      return fallback;
    }
    return d;
  }

  private static com.google.protobuf.Duration toProto(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static int count(int value, int fallback, String field, int max, ConfigErrors errors) {
    if (value == 0) {
      return fallback;
    }
    if (value < 0 || value > max) {
      errors.add(field, value + " (expected: 1-" + max + ", or 0 for " + fallback + ")");
      return fallback;
    }
    return value;
  }

  private MetricTarget metric(String instance, MetricInfo m, String at, ConfigErrors errors) {
    int before = errors.errors().size();
    if (instance.isBlank()) {
      errors.add(at, "empty instance name (expected: a metric instance's fully qualified name)");
    }
    MetricKind kind = m.getKind();
    if (kind != MetricKind.GAUGE && kind != MetricKind.DELTA && kind != MetricKind.CUMULATIVE) {
      errors.add(at + ".kind", (kind == MetricKind.UNRECOGNIZED ? String.valueOf(m.getKindValue()) : kind.name())
          + " (expected: GAUGE (1), DELTA (2) or CUMULATIVE (3))");
    }
    com.google.api.MetricDescriptor.ValueType value = m.getValue();
    switch (value) {
      case INT64, DOUBLE, DISTRIBUTION -> { }
      case BOOL, STRING -> {
        if (kind != MetricKind.GAUGE) {
          errors.add(at + ".value", value + " with kind " + kind + " (expected: BOOL and STRING only as GAUGE)");
        }
      }
      default -> errors.add(at + ".value", (value == com.google.api.MetricDescriptor.ValueType.UNRECOGNIZED
          ? String.valueOf(m.getValueValue()) : value.name())
          + " (expected: BOOL (1), INT64 (2), DOUBLE (3), STRING (4) or DISTRIBUTION (5))");
    }
    BucketOptions buckets = BucketOptions.getDefaultInstance();
    double[] bounds = new double[0];
    if (value == com.google.api.MetricDescriptor.ValueType.DISTRIBUTION) {
      if (!m.hasBuckets()
          || m.getBuckets().getDefinitionCase() == BucketsDefinition.DefinitionCase.DEFINITION_NOT_SET) {
        errors.add(at + ".buckets", "missing (expected: linear_buckets, exponential_buckets or explicit_buckets"
            + " for a DISTRIBUTION)");
      } else {
        buckets = buckets(m.getBuckets(), at + ".buckets", errors);
        bounds = bounds(buckets);
      }
    } else if (m.hasBuckets()) {
      errors.add(at + ".buckets", "set on a " + value + " (expected: buckets only with value DISTRIBUTION)");
    }
    List<String> labels = List.of();
    MetricType type = metricTypes == null ? null : metricTypes.get(instance);
    if (type != null) {
      labels = List.copyOf(new TreeSet<>(type.dimensions().keySet()));
      if (labels.size() > MAX_METRIC_LABELS) {
        errors.add(at, "instance '" + instance + "' has " + labels.size() + " dimensions (expected: at most "
            + MAX_METRIC_LABELS + ", Cloud Monitoring's limit of labels per metric)");
      }
      for (String label : labels) {
        if (!LABEL_KEY.matcher(label).matches()) {
          errors.add(at, "dimension '" + label + "' of instance '" + instance + "' is not a valid label key"
              + " (expected: a letter, then up to 99 letters, digits or '_')");
        }
      }
      io.istio4j.adapter.ValueType inferred = type.value();
      boolean numeric = inferred == io.istio4j.adapter.ValueType.INT64
          || inferred == io.istio4j.adapter.ValueType.DOUBLE || inferred == io.istio4j.adapter.ValueType.DURATION
          || inferred.isStringLike() || inferred == io.istio4j.adapter.ValueType.VALUE_TYPE_UNSPECIFIED;
      if ((value == com.google.api.MetricDescriptor.ValueType.INT64
          || value == com.google.api.MetricDescriptor.ValueType.DOUBLE
          || value == com.google.api.MetricDescriptor.ValueType.DISTRIBUTION) && !numeric) {
        errors.add(at + ".value", value + ", but instance '" + instance + "' has a " + inferred
            + " value (expected: INT64, DOUBLE, DURATION or a numeric STRING)");
      }
      if (value == com.google.api.MetricDescriptor.ValueType.BOOL && inferred != io.istio4j.adapter.ValueType.BOOL) {
        errors.add(at + ".value", "BOOL, but instance '" + instance + "' has a " + inferred + " value");
      }
    }
    if (errors.errors().size() > before) {
      return null;
    }
    return new MetricTarget(instance, "custom.googleapis.com/" + instance, kind, value, labels, buckets, bounds);
  }

  private static BucketOptions buckets(BucketsDefinition b, String at, ConfigErrors errors) {
    BucketOptions.Builder out = BucketOptions.newBuilder();
    switch (b.getDefinitionCase()) {
      case LINEAR_BUCKETS -> {
        BucketsDefinition.Linear l = b.getLinearBuckets();
        String field = at + ".linear_buckets";
        finite(l.getNumFiniteBuckets(), field, errors);
        if (!(l.getWidth() > 0) || Double.isInfinite(l.getWidth())) {
          errors.add(field + ".width", l.getWidth() + " (expected: > 0)");
        }
        if (!Double.isFinite(l.getOffset())) {
          errors.add(field + ".offset", l.getOffset() + " (expected: a finite number)");
        }
        out.setLinearBuckets(BucketOptions.Linear.newBuilder().setNumFiniteBuckets(l.getNumFiniteBuckets())
            .setWidth(l.getWidth()).setOffset(l.getOffset()));
      }
      case EXPONENTIAL_BUCKETS -> {
        BucketsDefinition.Exponential e = b.getExponentialBuckets();
        String field = at + ".exponential_buckets";
        finite(e.getNumFiniteBuckets(), field, errors);
        if (!(e.getGrowthFactor() > 1) || Double.isInfinite(e.getGrowthFactor())) {
          errors.add(field + ".growth_factor", e.getGrowthFactor() + " (expected: > 1)");
        }
        if (!(e.getScale() > 0) || Double.isInfinite(e.getScale())) {
          errors.add(field + ".scale", e.getScale() + " (expected: > 0)");
        }
        out.setExponentialBuckets(BucketOptions.Exponential.newBuilder().setNumFiniteBuckets(e.getNumFiniteBuckets())
            .setGrowthFactor(e.getGrowthFactor()).setScale(e.getScale()));
      }
      default -> {
        List<Double> bounds = b.getExplicitBuckets().getBoundsList();
        String field = at + ".explicit_buckets.bounds";
        if (bounds.isEmpty() || bounds.size() > MAX_FINITE_BUCKETS) {
          errors.add(field, bounds.size() + " bounds (expected: 1-" + MAX_FINITE_BUCKETS + ")");
        }
        for (int i = 0; i < bounds.size(); i++) {
          if (!Double.isFinite(bounds.get(i)) || (i > 0 && !(bounds.get(i) > bounds.get(i - 1)))) {
            errors.add(field, "bound " + i + " (" + bounds.get(i) + ") (expected: finite, strictly increasing bounds)");
            break;
          }
        }
        out.setExplicitBuckets(BucketOptions.Explicit.newBuilder().addAllBounds(bounds));
      }
    }
    return out.build();
  }

  private static void finite(int n, String field, ConfigErrors errors) {
    if (n < 1 || n > MAX_FINITE_BUCKETS) {
      errors.add(field + ".num_finite_buckets", n + " (expected: 1-" + MAX_FINITE_BUCKETS + ")");
    }
  }

  /** The bucket boundaries of google.api.Distribution.BucketOptions: bucket i is [bounds[i-1], bounds[i]). */
  static double[] bounds(BucketOptions b) {
    switch (b.getOptionsCase()) {
      case LINEAR_BUCKETS -> {
        BucketOptions.Linear l = b.getLinearBuckets();
        double[] out = new double[Math.max(0, l.getNumFiniteBuckets()) + 1];
        for (int i = 0; i < out.length; i++) {
          out[i] = l.getOffset() + l.getWidth() * i;
        }
        return out;
      }
      case EXPONENTIAL_BUCKETS -> {
        BucketOptions.Exponential e = b.getExponentialBuckets();
        double[] out = new double[Math.max(0, e.getNumFiniteBuckets()) + 1];
        for (int i = 0; i < out.length; i++) {
          out[i] = e.getScale() * Math.pow(e.getGrowthFactor(), i);
        }
        return out;
      }
      case EXPLICIT_BUCKETS -> {
        return b.getExplicitBuckets().getBoundsList().stream().mapToDouble(Double::doubleValue).toArray();
      }
      default -> {
        return new double[0];
      }
    }
  }

  private LogTarget log(String instance, LogInfo l, String at, ConfigErrors errors) {
    int before = errors.errors().size();
    if (instance.isBlank()) {
      errors.add(at, "empty instance name (expected: a logentry instance's fully qualified name)");
    }
    if (l.getLabelNamesCount() > MAX_LOG_LABELS) {
      errors.add(at + ".label_names", l.getLabelNamesCount() + " labels (expected: at most " + MAX_LOG_LABELS
          + ", Cloud Logging's limit per entry)");
    }
    LogEntryType type = logTypes == null ? null : logTypes.get(instance);
    for (int i = 0; i < l.getLabelNamesCount(); i++) {
      String label = l.getLabelNames(i);
      if (type != null && !type.variables().containsKey(label)) {
        errors.add(at + ".label_names[" + i + "]", "'" + label + "' is not a variable of instance '" + instance
            + "' (expected: one of " + new TreeSet<>(type.variables().keySet()) + ")");
      }
    }
    PayloadTemplate template = null;
    if (!l.getPayloadTemplate().isEmpty()) {
      try {
        template = PayloadTemplate.parse(l.getPayloadTemplate());
      } catch (IllegalArgumentException e) {
        errors.add(at + ".payload_template", e.getMessage());
      }
    }
    HttpRequestMapping http = null;
    if (l.hasHttpMapping()) {
      http = l.getHttpMapping();
      if (type != null) {
        Map<String, String> mapped = new LinkedHashMap<>();
        mapped.put("status", http.getStatus());
        mapped.put("request_size", http.getRequestSize());
        mapped.put("response_size", http.getResponseSize());
        mapped.put("latency", http.getLatency());
        mapped.put("local_ip", http.getLocalIp());
        mapped.put("remote_ip", http.getRemoteIp());
        mapped.forEach((field, variable) -> {
          if (!variable.isEmpty() && !type.variables().containsKey(variable)) {
            errors.add(at + ".http_mapping." + field, "'" + variable + "' is not a variable of instance '"
                + instance + "' (expected: one of " + new TreeSet<>(type.variables().keySet()) + ")");
          }
        });
      }
    }
    if (errors.errors().size() > before) {
      return null;
    }
    return new LogTarget(instance, List.copyOf(new ArrayList<>(l.getLabelNamesList())), template, http);
  }
}
