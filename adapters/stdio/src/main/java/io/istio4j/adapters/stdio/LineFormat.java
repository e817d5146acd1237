package io.istio4j.adapters.stdio;

import io.istio4j.adapter.GoValues;
import io.istio4j.adapters.stdio.config.Params;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;

/**
 * Lays out one instance as one line, without the line break.
 *
 * <p>JSON, as upstream's zap JSON encoder: {@code level}, {@code time}, {@code instance}, then the
 * fields: <pre>{@code
 * {"level":"info","time":"2017-09-01T12:00:00.000Z","instance":"accesslog.logentry.istio-system","latency":"25ms","responseCode":200}
 * }</pre>
 *
 * <p>Text: level, time and instance separated by tabs, then {@code key=value} pairs separated by
 * spaces, quoted (JSON escapes) where a value is empty or holds a space, {@code =} or {@code "}: <pre>{@code
 * info	2017-09-01T12:00:00.000Z	accesslog.logentry.istio-system	latency=25ms responseCode=200 url="/a b"
 * }</pre>
 *
 * <p>Fields: a log entry's variables sorted by name; a metric's {@code value} followed by its
 * dimensions sorted by name.
 */
final class LineFormat {

  private final boolean json;

  LineFormat(boolean json) {
    this.json = json;
  }

  /** The level as zap names it: {@code info}, {@code warn}, {@code error}. */
  static String levelName(Params.Level level) {
    return switch (level) {
      case WARNING -> "warn";
      case ERROR -> "error";
      default -> "info";
    };
  }

  /** A log entry: its variables sorted by name. */
  String logEntry(String level, Instant time, String instance, Map<String, Object> variables) {
    StringBuilder sb = start(level, time, instance);
    Object[] names = sortedKeys(variables);
    for (int i = 0; i < names.length; i++) {
      field(sb, (String) names[i], variables.get(names[i]), i == 0);
    }
    return end(sb);
  }

  /** A metric: {@code value}, then the dimensions sorted by name. */
  String metric(String level, Instant time, String instance, Object value, Map<String, Object> dimensions) {
    StringBuilder sb = start(level, time, instance);
    field(sb, "value", value, true);
    for (Object name : sortedKeys(dimensions)) {
      field(sb, (String) name, dimensions.get(name), false);
    }
    return end(sb);
  }

  private StringBuilder start(String level, Instant time, String instance) {
    StringBuilder sb = new StringBuilder(256);
    if (json) {
      sb.append("{\"level\":");
      quote(sb, level);
      sb.append(",\"time\":");
      quote(sb, zapTime(time));
      sb.append(",\"instance\":");
      quote(sb, instance);
    } else {
      sb.append(level).append('\t').append(zapTime(time)).append('\t');
      text(sb, instance);
    }
    return sb;
  }

  private void field(StringBuilder sb, String name, Object value, boolean first) {
    if (json) {
      sb.append(',');
      quote(sb, name);
      sb.append(':');
      json(sb, value);
    } else {
      sb.append(first ? '\t' : ' ');
      text(sb, name);
      sb.append('=');
      text(sb, textOf(value));
    }
  }

  private String end(StringBuilder sb) {
    return json ? sb.append('}').toString() : sb.toString();
  }

  // ---- JSON ----

  private static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      quote(sb, s);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      sb.append(v);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isFinite(d)) {
        sb.append(GoValues.decimal(d));
      } else {
        quote(sb, GoValues.decimal(d));
      }
    } else if (v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map<?, ?> map) {
      sb.append('{');
      boolean first = true;
      for (Object key : sortedKeys(map)) {
        if (!first) {
          sb.append(',');
        }
        first = false;
        quote(sb, key.toString());
        sb.append(':');
        json(sb, map.get(key));
      }
      sb.append('}');
    } else {
      quote(sb, scalarText(v));
    }
  }

  /** Keys in the order of their text, so a line does not depend on a map's iteration order. */
  private static Object[] sortedKeys(Map<?, ?> map) {
    Object[] keys = map.keySet().toArray();
    Arrays.sort(keys, (a, b) -> String.valueOf(a).compareTo(String.valueOf(b)));
    return keys;
  }

  /** Appends {@code s} as a JSON string: quotes, backslashes and control characters escaped. */
  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          // C1 controls too: NEL (U+0085) ends a line for some log readers.
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029') {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  // ---- text ----

  private static String textOf(Object v) {
    if (v instanceof Map<?, ?> map) {
      StringBuilder sb = new StringBuilder("{");
      for (Object key : sortedKeys(map)) {
        if (sb.length() > 1) {
          sb.append(", ");
        }
        sb.append(key).append('=').append(textOf(map.get(key)));
      }
      return sb.append('}').toString();
    }
    return v == null ? "null" : scalarText(v);
  }

  /** Appends {@code s} bare, or quoted where logfmt readers would misread it bare. */
  private static void text(StringBuilder sb, String s) {
    boolean bare = !s.isEmpty();
    for (int i = 0; bare && i < s.length(); i++) {
      char c = s.charAt(i);
      bare = c > ' ' && c != '=' && c != '"' && (c < 0x7f || c > 0x9f) && !Character.isWhitespace(c)
          && c != '\u2028' && c != '\u2029';
    }
    if (bare) {
      sb.append(s);
    } else {
      quote(sb, s);
    }
  }

  // ---- values ----

  /** zap's ISO8601TimeEncoder layout, always in UTC. */
  private static final DateTimeFormatter ZAP_TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** {@code 2017-09-01T12:00:00.000Z}, as upstream's zap encoder: millisecond precision, UTC. */
  static String zapTime(Instant t) {
    try {
      return ZAP_TIME.format(t);
    } catch (DateTimeException e) { // beyond year 999999999
      return t.toString();
    }
  }

  /**
   * An IP address as Go prints it ({@link GoValues#ip}); other bytes are no address and read as
   * base64, as zap writes any other bytes.
   */
  static String bytes(byte[] b) {
    return b.length == 4 || b.length == 16 ? GoValues.ip(b) : Base64.getEncoder().encodeToString(b);
  }

  /** The text of any value but a map; never throws, whatever the value's type. */
  private static String scalarText(Object v) {
    try {
      if (v instanceof Instant t) {
        return zapTime(t);
      }
      if (v instanceof Duration d) {
        return GoValues.duration(d);
      }
      if (v instanceof byte[] b) {
        return bytes(b);
      }
      if (v instanceof Double || v instanceof Float) {
        return GoValues.decimal(((Number) v).doubleValue());
      }
      return String.valueOf(v);
    } catch (RuntimeException e) {
      return "<" + v.getClass().getName() + ": " + e + ">";
    }
  }
}
