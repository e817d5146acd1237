package io.istio4j.adapters.prometheus;

/**
 * Upstream's naming: a metric is exposed as {@code istio_} plus its sanitized name, and label names
 * are sanitized the same way. Sanitizing trims one leading {@code /}, turns {@code /}, {@code .} and
 * spaces into {@code _}, and deletes {@code -}.
 */
final class Names {

  /** Upstream's Prometheus namespace. */
  static final String PREFIX = "istio_";

  private Names() {}

  /** {@code "/request.count"} becomes {@code "request_count"}, {@code "istio-system"} {@code "istiosystem"}. */
  static String sanitize(String name) {
    String s = name.startsWith("/") ? name.substring(1) : name;
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '/', '.', ' ' -> out.append('_');
        case '-' -> { }
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** The exposed name of a metric configured as {@code configured} (its name, or else its instance name). */
  static String metricName(String configured) {
    return PREFIX + sanitize(configured);
  }

  /** A Prometheus metric name: {@code [a-zA-Z_:][a-zA-Z0-9_:]*}. */
  static boolean isValidMetricName(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = c == '_' || c == ':' || isAsciiLetter(c) || (i > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** A Prometheus label name: {@code [a-zA-Z_][a-zA-Z0-9_]*}, not starting with the reserved {@code __}. */
  static boolean isValidLabelName(String name) {
    if (name.isEmpty() || name.startsWith("__")) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok = c == '_' || isAsciiLetter(c) || (i > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}
