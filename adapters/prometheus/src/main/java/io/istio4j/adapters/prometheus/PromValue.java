package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.GoValues;
import java.time.Duration;

/**
 * A metric instance's value as a sample value, as upstream's {@code promValue}: INT64 and DOUBLE as
 * they are, a DURATION in seconds, a STRING parsed as Go parses a float. Anything else, or a string
 * that is not a number, gives NaN, which callers treat as "no value".
 */
final class PromValue {

  private PromValue() {}

  static double of(Object value) {
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof Double d) {
      return d;
    }
    if (value instanceof Duration d) {
      return d.getSeconds() + d.getNano() / 1e9;
    }
    if (value instanceof String s) {
      return GoValues.parseFloat(s);
    }
    if (value instanceof Integer i) {
      return i;
    }
    return Double.NaN;
  }
}
