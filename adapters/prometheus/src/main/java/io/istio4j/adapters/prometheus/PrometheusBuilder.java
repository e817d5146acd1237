package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.prometheus.config.Params;
import io.istio4j.adapters.prometheus.config.Params.BucketsDefinition;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo;
import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.istio4j.template.metric.MetricHandlerBuilder;
import io.istio4j.template.metric.MetricType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Checks a prometheus config against the instances bound to the handler and builds the handler.
 * Every problem names its field: {@code metrics[0].kind}, {@code
 * metrics[2].buckets.linear_buckets.width}, {@code metrics[1].label_names[3]}.
 */
final class PrometheusBuilder implements MetricHandlerBuilder<Params> {

  /** client_golang's DefBuckets, the histogram bounds when a DISTRIBUTION names none. */
  static final List<Double> DEFAULT_BOUNDS = List.of(.005, .01, .025, .05, .1, .25, .5, 1.0, 2.5, 5.0, 10.0);

  /** More bounds than this is a typo, not a histogram: every series would hold that many counters. */
  static final int MAX_FINITE_BUCKETS = 1000;

  /** A longer label value is a payload, not a label: no query or dashboard wants it. */
  static final int MAX_LABEL_VALUE_LENGTH = 1 << 16;

  private final SharedRegistry registry;
  private Params params;
  private Map<String, MetricType> types;
  private List<Target> targets;

  PrometheusBuilder() {
    this(SharedRegistry.INSTANCE);
  }

  PrometheusBuilder(SharedRegistry registry) {
    this.registry = registry;
  }

  /** A validated metrics[] entry: where an instance's values go. */
  record Target(String instance, MetricDefinition definition, List<String> dimensionKeys) {}

  @Override
  public void setMetricTypes(Map<String, MetricType> types) {
    this.types = Map.copyOf(types);
  }

  @Override
  public void setAdapterConfig(Params config) {
    this.params = config;
    this.targets = null;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    if (params.getPort() < 0 || params.getPort() > 65535) {
      errors.addf("port", "%d (expected: 0-65535, 0 for any free port)", params.getPort());
    }
    int minLength = 2 * LabelValues.TRUNCATED.length();
    if (params.getMaxLabelValueLength() != 0
        && (params.getMaxLabelValueLength() < minLength || params.getMaxLabelValueLength() > MAX_LABEL_VALUE_LENGTH)) {
      errors.addf("max_label_value_length", "%d (expected: %d-%d, or 0 for %d)", params.getMaxLabelValueLength(),
          minLength, MAX_LABEL_VALUE_LENGTH, PrometheusHandler.Limits.DEFAULT_MAX_LABEL_VALUE_LENGTH);
    }
    if (params.getMaxSeriesPerMetric() < 0) {
      errors.addf("max_series_per_metric", "%d (expected: > 0, or 0 for %d)", params.getMaxSeriesPerMetric(),
          PrometheusHandler.Limits.DEFAULT_MAX_SERIES_PER_METRIC);
    }
    Map<String, Integer> byName = new HashMap<>();
    Map<String, Integer> byInstance = new HashMap<>();
    List<Target> valid = new ArrayList<>();
    for (int i = 0; i < params.getMetricsCount(); i++) {
      MetricInfo m = params.getMetrics(i);
      String at = "metrics[" + i + "]";
      int before = errors.errors().size();
      String instance = m.getInstanceName();
      if (instance.isEmpty()) {
        errors.add(at + ".instance_name",
            "empty (expected: the fully qualified name of a metric instance, such as requestcount.metric.istio-system)");
      } else if (byInstance.containsKey(instance)) {
        errors.add(at + ".instance_name", "'" + instance + "' is already in metrics[" + byInstance.get(instance)
            + "] (expected: one entry per instance)");
      } else {
        byInstance.put(instance, i);
      }
      Kind kind = m.getKind();
      boolean knownKind = kind == Kind.COUNTER || kind == Kind.GAUGE || kind == Kind.DISTRIBUTION;
      if (!knownKind) {
        errors.add(at + ".kind", (kind == Kind.UNRECOGNIZED ? String.valueOf(m.getKindValue()) : kind.name())
            + " (expected: COUNTER, GAUGE or DISTRIBUTION)");
      }
      String configured = m.getName().isEmpty() ? instance : m.getName();
      String name = Names.metricName(configured);
      if (!configured.isEmpty() && !Names.isValidMetricName(name)) {
        errors.add(at + (m.getName().isEmpty() ? ".instance_name" : ".name"), "'" + configured
            + "' is exposed as '" + name + "' (expected: letters, digits, '_' and ':' once sanitized)");
      }
      List<String> labels = labels(m, at, errors);
      List<Double> bounds = List.of();
      if (m.hasBuckets() && knownKind && kind != Kind.DISTRIBUTION) {
        errors.add(at + ".buckets", "set on a " + kind + " (expected: buckets only on a DISTRIBUTION)");
      } else if (kind == Kind.DISTRIBUTION) {
        bounds = bounds(m.getBuckets(), at + ".buckets", errors);
      }
      if (errors.errors().size() > before) {
        continue;
      }
      String help = m.getDescription().isEmpty() ? configured : m.getDescription();
      MetricDefinition definition = new MetricDefinition(name, help, kind, labels, bounds);
      List<String> keys = dimensionKeys(m, instance, labels, at, errors);
      if (keys == null) {
        continue;
      }
      MetricDefinition earlier = definitionOf(valid, name);
      if (earlier != null && !earlier.equals(definition)) {
        errors.add(at + (m.getName().isEmpty() ? ".instance_name" : ".name"), "'" + name + "' is also metrics["
            + byName.get(name) + "], with another kind, description, labels or buckets"
            + " (expected: one definition per name)");
        continue;
      }
      byName.putIfAbsent(name, i);
      valid.add(new Target(instance, definition, keys));
    }
    if (types != null) {
      for (String instance : new TreeSet<>(types.keySet())) {
        if (!byInstance.containsKey(instance)) {
          errors.add("metrics", "no entry for instance '" + instance + "', which a rule sends to this handler"
              + " (expected: an entry with instance_name '" + instance + "')");
        }
      }
    }
    targets = errors.isEmpty() ? List.copyOf(valid) : null;
    return errors;
  }

  /** What the last successful {@link #validate()} found, or null. */
  List<Target> targets() {
    return targets;
  }

  @Override
  public Handler build(Env env) throws IOException {
    if (targets == null) {
      ConfigErrors errors = validate();
      if (!errors.isEmpty()) {
        throw new IllegalStateException("invalid config: " + errors);
      }
    }
    Map<String, MetricDefinition> definitions = new LinkedHashMap<>();
    for (Target t : targets) {
      definitions.putIfAbsent(t.definition().name(), t.definition());
    }
    SharedRegistry.Lease lease = registry.acquire(params.getPort(), definitions.values());
    return new PrometheusHandler(targets, lease, env, limits(params));
  }

  /** The configured limits, with 0 meaning the default. */
  static PrometheusHandler.Limits limits(Params params) {
    return new PrometheusHandler.Limits(
        params.getMaxLabelValueLength() == 0
            ? PrometheusHandler.Limits.DEFAULT_MAX_LABEL_VALUE_LENGTH : params.getMaxLabelValueLength(),
        params.getMaxSeriesPerMetric() == 0
            ? PrometheusHandler.Limits.DEFAULT_MAX_SERIES_PER_METRIC : params.getMaxSeriesPerMetric());
  }

  private static MetricDefinition definitionOf(List<Target> targets, String name) {
    for (Target t : targets) {
      if (t.definition().name().equals(name)) {
        return t.definition();
      }
    }
    return null;
  }

  private static List<String> labels(MetricInfo m, String at, ConfigErrors errors) {
    List<String> labels = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int j = 0; j < m.getLabelNamesCount(); j++) {
      String raw = m.getLabelNames(j);
      String label = Names.sanitize(raw);
      String field = at + ".label_names[" + j + "]";
      if (!Names.isValidLabelName(label)) {
        errors.add(field, "'" + raw + "' is the label '" + label
            + "' (expected: letters, digits and '_', not starting with a digit or '__', once sanitized)");
      } else if (m.getKind() == Kind.DISTRIBUTION && label.equals("le")) {
        errors.add(field, "'le' holds a histogram's bucket bounds (expected: another label name)");
      } else if (!seen.add(label)) {
        errors.add(field, "'" + label + "' is listed twice (expected: distinct label names once sanitized)");
      }
      labels.add(label);
    }
    return labels;
  }

  /**
   * The instance's dimension keys in label order: the dimension whose sanitized name is the
   * label, as upstream matched them. Without inferred types, the configured label names.
   */
  private List<String> dimensionKeys(MetricInfo m, String instance, List<String> labels, String at,
      ConfigErrors errors) {
    MetricType type = types == null ? null : types.get(instance);
    if (type == null) {
      return List.copyOf(m.getLabelNamesList());
    }
    int before = errors.errors().size();
    ValueType value = type.value();
    if (!(value.isStringLike() || value == ValueType.INT64 || value == ValueType.DOUBLE
        || value == ValueType.DURATION || value == ValueType.VALUE_TYPE_UNSPECIFIED)) {
      errors.add(at + ".instance_name", "instance '" + instance + "' has a " + value
          + " value (expected: INT64, DOUBLE, DURATION or a STRING holding a number)");
    }
    Map<String, String> bySanitized = new LinkedHashMap<>();
    for (String dimension : type.dimensions().keySet()) {
      String other = bySanitized.putIfAbsent(Names.sanitize(dimension), dimension);
      if (other != null) {
        errors.add(at + ".label_names", "dimensions '" + other + "' and '" + dimension + "' of instance '"
            + instance + "' are both the label '" + Names.sanitize(dimension) + "' (expected: distinct names)");
      }
    }
    List<String> keys = new ArrayList<>();
    for (int j = 0; j < labels.size(); j++) {
      String key = bySanitized.get(labels.get(j));
      if (key == null) {
        errors.add(at + ".label_names[" + j + "]", "'" + labels.get(j) + "' is not a dimension of instance '"
            + instance + "' (expected: one of " + bySanitized.keySet() + ")");
      }
      keys.add(key);
    }
    Set<String> unlabelled = new TreeSet<>(bySanitized.keySet());
    labels.forEach(unlabelled::remove);
    if (!unlabelled.isEmpty()) {
      errors.add(at + ".label_names", "instance '" + instance + "' has dimensions " + unlabelled
          + " that are not labels (expected: every dimension listed; the series of a metric share one label set)");
    }
    return errors.errors().size() > before ? null : keys;
  }

  /** The finite upper bounds, computed as client_golang's Linear/ExponentialBuckets did upstream. */
  private static List<Double> bounds(BucketsDefinition buckets, String at, ConfigErrors errors) {
    List<Double> bounds = new ArrayList<>();
    switch (buckets.getDefinitionCase()) {
      case LINEAR_BUCKETS -> {
        BucketsDefinition.Linear l = buckets.getLinearBuckets();
        String field = at + ".linear_buckets";
        boolean ok = count(l.getNumFiniteBuckets(), field, errors);
        if (!(l.getWidth() > 0) || Double.isInfinite(l.getWidth())) {
          errors.add(field + ".width", l.getWidth() + " (expected: > 0)");
          ok = false;
        }
        if (!Double.isFinite(l.getOffset())) {
          errors.add(field + ".offset", l.getOffset() + " (expected: a finite number)");
          ok = false;
        }
        if (ok) {
          // Upstream: LinearBuckets(offset, width, num_finite_buckets + 1), adding as Go did.
          double bound = l.getOffset();
          for (int i = 0; i <= l.getNumFiniteBuckets(); i++) {
            bounds.add(bound);
            bound += l.getWidth();
          }
          checkIncreasing(bounds, field, errors);
        }
      }
      case EXPONENTIAL_BUCKETS -> {
        BucketsDefinition.Exponential e = buckets.getExponentialBuckets();
        String field = at + ".exponential_buckets";
        boolean ok = count(e.getNumFiniteBuckets(), field, errors);
        if (!(e.getGrowthFactor() > 1) || Double.isInfinite(e.getGrowthFactor())) {
          errors.add(field + ".growth_factor", e.getGrowthFactor() + " (expected: > 1)");
          ok = false;
        }
        if (!(e.getScale() > 0) || Double.isInfinite(e.getScale())) {
          errors.add(field + ".scale", e.getScale() + " (expected: > 0)");
          ok = false;
        }
        if (ok) {
          // Upstream: ExponentialBuckets(scale, growth_factor, num_finite_buckets + 1).
          double bound = e.getScale();
          for (int i = 0; i <= e.getNumFiniteBuckets(); i++) {
            bounds.add(bound);
            bound *= e.getGrowthFactor();
          }
          checkIncreasing(bounds, field, errors);
        }
      }
      case EXPLICIT_BUCKETS -> {
        List<Double> explicit = buckets.getExplicitBuckets().getBoundsList();
        String field = at + ".explicit_buckets.bounds";
        if (explicit.isEmpty()) {
          errors.add(field, "empty (expected: at least one bound)");
        } else if (explicit.size() > MAX_FINITE_BUCKETS) {
          errors.add(field, explicit.size() + " bounds (expected: at most " + MAX_FINITE_BUCKETS + ")");
        } else {
          bounds.addAll(explicit);
          checkIncreasing(bounds, field, errors);
        }
      }
      default -> bounds.addAll(DEFAULT_BOUNDS);
    }
    return bounds;
  }

  private static boolean count(int n, String field, ConfigErrors errors) {
    if (n < 1 || n > MAX_FINITE_BUCKETS) {
      errors.add(field + ".num_finite_buckets", n + " (expected: 1-" + MAX_FINITE_BUCKETS + ")");
      return false;
    }
    return true;
  }

  private static void checkIncreasing(List<Double> bounds, String field, ConfigErrors errors) {
    for (int i = 0; i < bounds.size(); i++) {
      double b = bounds.get(i);
      if (!Double.isFinite(b)) {
        errors.add(field, "bound " + i + " is " + b + " (expected: finite bounds; +Inf is always added)");
        return;
      }
      if (i > 0 && !(b > bounds.get(i - 1))) {
        errors.add(field, "bound " + i + " (" + b + ") is not above bound " + (i - 1) + " (" + bounds.get(i - 1)
            + ") (expected: strictly increasing bounds)");
        return;
      }
    }
  }
}
