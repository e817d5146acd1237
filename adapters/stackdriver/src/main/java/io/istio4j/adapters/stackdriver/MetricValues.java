package io.istio4j.adapters.stackdriver;

import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import io.istio4j.adapter.GoValues;
import java.time.Duration;

/**
 * Instance values as Cloud Monitoring values: INT64 and DOUBLE from integers, doubles, durations
 * and numeric strings; DISTRIBUTION observations as doubles (durations in seconds, matching the
 * bucket bounds of upstream's request_duration); BOOL and STRING as they are.
 */
final class MetricValues {

  private MetricValues() {}

  /** The value to record, or null when it does not fit the metric. */
  static Object convert(MetricTarget target, Object value) {
    switch (target.valueType()) {
      case BOOL -> {
        return target.kind() == MetricKind.GAUGE && value instanceof Boolean ? value : null;
      }
      case STRING -> {
        return target.kind() == MetricKind.GAUGE ? (value instanceof String ? value : GoValues.format(value)) : null;
      }
      case INT64 -> {
        if (value instanceof Duration d) {
          return d.toMillis();
        }
        Long l = asLong(value);
        return l != null && (l >= 0 || target.kind() == MetricKind.GAUGE) ? l : null;
      }
      case DOUBLE, DISTRIBUTION -> {
        Double d = asDouble(value);
        return d != null && Double.isFinite(d)
            && (d >= 0 || target.kind() == MetricKind.GAUGE || target.valueType() == ValueType.DISTRIBUTION) ? d : null;
      }
      default -> {
        return null;
      }
    }
  }

  static Double asDouble(Object value) {
    if (value instanceof Double d) {
      return d;
    }
    if (value instanceof Long || value instanceof Integer) {
      return ((Number) value).doubleValue();
    }
    if (value instanceof Duration d) {
      return d.getSeconds() + d.getNano() / 1e9;
    }
    if (value instanceof String s) {
      try {
        return GoValues.parseFloat(s);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  static Long asLong(Object value) {
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof Integer i) {
      return i.longValue();
    }
    if (value instanceof Double d) {
      return Double.isFinite(d) ? (long) (double) d : null;
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  static Duration asDuration(Object value) {
    if (value instanceof Duration d) {
      return d;
    }
    if (value instanceof String s) {
      return GoValues.parseDurationOrNull(s);
    }
    return null;
  }
}
