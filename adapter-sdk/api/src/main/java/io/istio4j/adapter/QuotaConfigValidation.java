package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The checks every quota adapter's config needs, written once: upstream's {@code quotas[]} list of
 * limits per quota instance, each with a name, a {@code maxAmount}, a {@code validDuration} and
 * {@code overrides} for particular dimension values. Problems are added to a {@link ConfigErrors}
 * under their field path ({@code quotas[1].overrides[0].dimensions.source.ip}).
 *
 * <p>Besides the numbers it checks what would otherwise silently never limit: every quota instance
 * bound to the handler has an entry; an override names only dimensions its instance has; an
 * override of an IP_ADDRESS or DURATION dimension parses as one. Handlers then compare override
 * values with {@link #overrideText}, the Go text of the value, so {@code ::ffff:10.0.0.1} in
 * config matches a request's {@code 10.0.0.1}.
 *
 * <pre>{@code
 * ConfigErrors errors = new ConfigErrors();
 * QuotaConfigValidation quotas = QuotaConfigValidation.builder(errors, dimensionsByInstance)
 *     .maxAmount(MAX_AMOUNT)
 *     .windowRequired(true)
 *     .build();
 * for (int i = 0; i < params.getQuotasCount(); i++) {
 *   Params.Quota q = params.getQuotas(i);
 *   quotas.quota(i, q.getName(), q.getMaxAmount(), toDuration(q.getValidDuration()));
 *   for (int j = 0; j < q.getOverridesCount(); j++) {
 *     Params.Override o = q.getOverrides(j);
 *     quotas.override(i, j, o.getDimensionsMap(), o.getMaxAmount(), null);
 *   }
 * }
 * quotas.finish();
 * }</pre>
 */
public final class QuotaConfigValidation {

  private final ConfigErrors errors;
  private final Map<String, Map<String, ValueType>> dimensionsByInstance;
  private final long maxAmount;
  private final boolean windowRequired;
  private final Set<String> names = new HashSet<>();
  private final Map<Integer, String> nameByIndex = new HashMap<>();

  private QuotaConfigValidation(Builder b) {
    this.errors = b.errors;
    this.dimensionsByInstance = b.dimensionsByInstance;
    this.maxAmount = b.maxAmount;
    this.windowRequired = b.windowRequired;
  }

  /**
   * Starts the checks of one config.
   *
   * @param errors where problems go
   * @param dimensionsByInstance the quota instances bound to the handler (fully qualified names) and
   *     their dimensions' types, as the handler builder was given them
   */
  public static Builder builder(ConfigErrors errors, Map<String, Map<String, ValueType>> dimensionsByInstance) {
    return new Builder(errors, dimensionsByInstance);
  }

  /** Options of the checks; the defaults are upstream memquota's rules. */
  public static final class Builder {
    private final ConfigErrors errors;
    private final Map<String, Map<String, ValueType>> dimensionsByInstance;
    private long maxAmount = Long.MAX_VALUE;
    private boolean windowRequired;

    private Builder(ConfigErrors errors, Map<String, Map<String, ValueType>> dimensionsByInstance) {
      this.errors = requireNonNull(errors, "errors");
      this.dimensionsByInstance = Map.copyOf(requireNonNull(dimensionsByInstance, "dimensionsByInstance"));
    }

    /** The largest {@code maxAmount} the adapter can count exactly (default: any). */
    public Builder maxAmount(long max) {
      if (max < 0) {
        throw new IllegalArgumentException("max: " + max + " (expected: >= 0)");
      }
      this.maxAmount = max;
      return this;
    }

    /**
     * True when {@code validDuration} must be positive (a rate window); false (the default) when 0
     * is allowed and means a plain counter.
     */
    public Builder windowRequired(boolean required) {
      this.windowRequired = required;
      return this;
    }

    public QuotaConfigValidation build() {
      return new QuotaConfigValidation(this);
    }
  }

  /** Checks {@code quotas[i]}: a unique non-empty name, the amount and the window. */
  public void quota(int i, String name, long maxAmount, Duration validDuration) {
    String f = "quotas[" + i + "]";
    if (name.isEmpty()) {
      errors.add(f + ".name", "required: the quota instance's fully qualified name");
    } else if (!names.add(name)) {
      errors.add(f + ".name", "'" + name + "' is configured twice");
    } else {
      nameByIndex.put(i, name);
    }
    amount(f + ".maxAmount", maxAmount);
    window(f + ".validDuration", validDuration, windowRequired);
  }

  /**
   * Checks {@code quotas[i].overrides[j]} (call after {@link #quota} for {@code i}): at least one
   * dimension, each one the instance has and each value of its type; the amount; the window, when
   * the adapter's overrides have one ({@code validDuration} null when they do not).
   */
  public void override(int i, int j, Map<String, String> dimensions, long maxAmount, Duration validDuration) {
    String f = "quotas[" + i + "].overrides[" + j + "]";
    if (dimensions.isEmpty()) {
      errors.add(f + ".dimensions", "required: an override applies to particular dimension values");
    }
    Map<String, ValueType> types = dimensionsByInstance.get(nameByIndex.get(i));
    for (Map.Entry<String, String> d : new TreeMap<>(dimensions).entrySet()) {
      if (types == null) {
        break; // an entry for an instance not bound (yet): nothing to check against
      }
      ValueType type = types.get(d.getKey());
      String field = f + ".dimensions." + d.getKey();
      if (type == null) {
        errors.add(field, "not a dimension of quota instance '" + nameByIndex.get(i)
            + "', so the override never applies (expected one of: " + String.join(", ", new TreeSet<>(types.keySet()))
            + ")");
      } else if (overrideText(type, d.getValue()) == null) {
        errors.add(field, "'" + d.getValue() + "' is no " + type + (type == ValueType.IP_ADDRESS
            ? " (expected: an address such as 10.0.0.1 or 2001:db8::1)" : " (expected: like 10s, 1.5s, 100ms)"));
      }
    }
    amount(f + ".maxAmount", maxAmount);
    if (validDuration != null) {
      window(f + ".validDuration", validDuration, windowRequired);
    }
  }

  /**
   * Checks a rolling window's {@code quotas[i].bucketDuration}: positive, at most the window, and
   * at most {@code maxBuckets} buckets per window.
   */
  public void bucketDuration(int i, Duration bucket, Duration window, long maxBuckets) {
    String f = "quotas[" + i + "].bucketDuration";
    if (bucket.isNegative() || bucket.isZero()) {
      errors.add(f, GoValues.duration(bucket) + " (expected: > 0 for ROLLING_WINDOW)");
    } else if (window.isNegative() || window.isZero()) {
      return; // the window's own error says it
    } else if (bucket.compareTo(window) > 0) {
      errors.add(f, "longer than validDuration");
    } else if (window.toNanos() / bucket.toNanos() > maxBuckets) {
      errors.add(f, String.format("makes %d buckets (expected: at most %d)", window.toNanos() / bucket.toNanos(),
          maxBuckets));
    }
  }

  /** Checks that every bound quota instance has a {@code quotas[]} entry; returns the errors. */
  public ConfigErrors finish() {
    for (String instance : new TreeSet<>(dimensionsByInstance.keySet())) {
      if (!names.contains(instance)) {
        errors.add("quotas", "no entry for quota instance '" + instance + "' (a quotas[].name must be its FQN)");
      }
    }
    return errors;
  }

  private void amount(String field, long amount) {
    if (amount < 0 || amount > maxAmount) {
      errors.add(field, amount + (maxAmount == Long.MAX_VALUE ? " (expected: >= 0)" : " (expected: 0 to " + maxAmount + ")"));
    }
  }

  private void window(String field, Duration d, boolean required) {
    if (required && (d.isNegative() || d.isZero())) {
      errors.add(field, GoValues.duration(d) + " (expected: > 0, the window)");
    } else if (d.isNegative()) {
      errors.add(field, GoValues.duration(d) + " (expected: >= 0)");
    }
  }

  /**
   * The text an override value must equal for a dimension of {@code type}: the Go text of the value
   * it names ({@code ::ffff:10.0.0.1} is {@code 10.0.0.1}, {@code 1000ms} is {@code 1s}), which is
   * how {@link GoValues#format} prints the request's value; other types as written. Null when the
   * text is no value of an IP_ADDRESS or DURATION dimension.
   */
  public static String overrideText(ValueType type, String value) {
    requireNonNull(value, "value");
    if (type == ValueType.IP_ADDRESS) {
      byte[] address = GoValues.parseIp(value);
      return address == null ? null : GoValues.ip(address);
    }
    if (type == ValueType.DURATION) {
      Duration d = GoValues.parseDurationOrNull(value);
      return d == null ? null : GoValues.duration(d);
    }
    return value;
  }
}
