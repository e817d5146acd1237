package io.istio4j.adapters.prometheus;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.TreeMap;

/**
 * How upstream's Go adapter turned attribute values into Prometheus label text ({@code
 * fmt.Sprintf("%v", v)}) and sample values ({@code promValue}), and how client_golang printed
 * floats ({@code strconv.FormatFloat(f, 'g', -1, 64)}). Keeping the Go spelling keeps series
 * identical to upstream's: {@code response_code="200"}, {@code le="0.005"}, {@code le="1e+08"}.
 */
final class GoValues {

  private static final DateTimeFormatter GO_TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  private GoValues() {}

  /**
   * A sample value as upstream's {@code promValue}: INT64 and DOUBLE as they are, a DURATION in
   * seconds, a STRING parsed as a float. Anything else, or a string that is not a number, gives NaN,
   * which callers treat as "no value".
   */
  static double numeric(Object value) {
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
      return parseFloat(s);
    }
    if (value instanceof Integer i) {
      return i;
    }
    return Double.NaN;
  }

  /** Go's {@code strconv.ParseFloat(s, 64)}; NaN when {@code s} is not a number. */
  static double parseFloat(String s) {
    if (s.isEmpty()) {
      return Double.NaN;
    }
    String unsigned = s.charAt(0) == '+' || s.charAt(0) == '-' ? s.substring(1) : s;
    if (unsigned.equalsIgnoreCase("inf") || unsigned.equalsIgnoreCase("infinity")) {
      return s.charAt(0) == '-' ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    char first = s.charAt(0);
    char last = s.charAt(s.length() - 1);
    boolean hex = unsigned.startsWith("0x") || unsigned.startsWith("0X");
    // Java also accepts surrounding spaces, "Infinity" spelled its way and a d/f suffix; Go does not.
    if (Character.isWhitespace(first) || Character.isWhitespace(last)
        || (!hex && (last == 'd' || last == 'D' || last == 'f' || last == 'F'))
        || unsigned.startsWith("Infinity") || unsigned.startsWith("NaN")) {
      return Double.NaN;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** A label value as Go's {@code %v}. */
  static String format(Object value) {
    if (value instanceof String s) {
      return s;
    }
    if (value instanceof Long || value instanceof Integer) {
      return value.toString();
    }
    if (value instanceof Double d) {
      return float64(d);
    }
    if (value instanceof Boolean b) {
      return b ? "true" : "false";
    }
    if (value instanceof Duration d) {
      return duration(d);
    }
    if (value instanceof Instant t) {
      return time(t);
    }
    if (value instanceof byte[] ip) {
      return ip(ip);
    }
    if (value instanceof Map<?, ?> map) {
      StringBuilder out = new StringBuilder("map[");
      String sep = "";
      for (Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
        out.append(sep).append(format(e.getKey())).append(':').append(format(e.getValue()));
        sep = " ";
      }
      return out.append(']').toString();
    }
    return String.valueOf(value);
  }

  /** {@code strconv.FormatFloat(v, 'g', -1, 64)} with client_golang's {@code +Inf}. */
  static String float64(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == 0) {
      return 1 / v < 0 ? "-0" : "0";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e6) {
      return Long.toString((long) v);
    }
    // Double.toString has the shortest digits that read back as v, as Go's shortest formatting.
    BigDecimal d = new BigDecimal(Double.toString(Math.abs(v))).stripTrailingZeros();
    String digits = d.unscaledValue().toString();
    int nd = digits.length();
    int dp = nd - d.scale(); // v = 0.<digits> * 10^dp
    int exp = dp - 1;
    StringBuilder out = new StringBuilder(nd + 8);
    if (v < 0) {
      out.append('-');
    }
    if (exp < -4 || exp >= 6) { // %e, with Go's two-digit minimum exponent
      out.append(digits.charAt(0));
      if (nd > 1) {
        out.append('.').append(digits, 1, nd);
      }
      int abs = Math.abs(exp);
      out.append('e').append(exp < 0 ? '-' : '+').append(abs < 10 ? "0" : "").append(abs);
    } else if (dp <= 0) {
      out.append("0.").append("0".repeat(-dp)).append(digits);
    } else if (dp >= nd) {
      out.append(digits).append("0".repeat(dp - nd));
    } else {
      out.append(digits, 0, dp).append('.').append(digits, dp, nd);
    }
    return out.toString();
  }

  /** Go's {@code time.Duration.String()}: {@code 25ms}, {@code 1.5µs}, {@code 1h2m3.5s}, {@code 0s}. */
  static String duration(Duration d) {
    long nanos;
    try {
      nanos = d.toNanos();
    } catch (ArithmeticException tooLong) { // Go durations are int64 nanoseconds
      nanos = d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    if (nanos == 0) {
      return "0s";
    }
    boolean negative = nanos < 0;
    // The magnitude as an unsigned long, as Go does, so that MIN_VALUE works too.
    long u = negative ? -nanos : nanos;
    StringBuilder out = new StringBuilder(24);
    if (Long.compareUnsigned(u, 1_000_000_000L) < 0) {
      if (u < 1_000L) {
        out.append(u).append("ns");
      } else if (u < 1_000_000L) {
        appendFraction(out, u, 3).append("µs");
      } else {
        appendFraction(out, u, 6).append("ms");
      }
    } else {
      long seconds = Long.divideUnsigned(u, 1_000_000_000L);
      long fraction = Long.remainderUnsigned(u, 1_000_000_000L);
      long hours = seconds / 3600;
      long minutes = seconds / 60 % 60;
      if (hours > 0) {
        out.append(hours).append('h');
      }
      if (hours > 0 || minutes > 0) {
        out.append(minutes).append('m');
      }
      out.append(seconds % 60);
      appendDigits(out, fraction, 9).append('s');
    }
    return negative ? "-" + out : out.toString();
  }

  /** {@code v / 10^precision} with the fraction's trailing zeros (and a bare point) left out. */
  private static StringBuilder appendFraction(StringBuilder out, long v, int precision) {
    long scale = (long) Math.pow(10, precision);
    out.append(v / scale);
    return appendDigits(out, v % scale, precision);
  }

  private static StringBuilder appendDigits(StringBuilder out, long fraction, int precision) {
    if (fraction == 0) {
      return out;
    }
    String digits = String.format("%0" + precision + "d", fraction);
    int end = digits.length();
    while (digits.charAt(end - 1) == '0') {
      end--;
    }
    return out.append('.').append(digits, 0, end);
  }

  /** Go's {@code time.Time.String()} of a UTC time: {@code 2017-09-20 10:11:12.5 +0000 UTC}. */
  static String time(Instant t) {
    StringBuilder out = new StringBuilder(GO_TIME.format(t));
    appendDigits(out, t.getNano(), 9);
    return out.append(" +0000 UTC").toString();
  }

  /** Go's {@code net.IP.String()}: dotted IPv4 (also for IPv4-mapped IPv6), RFC 5952 IPv6. */
  static String ip(byte[] ip) {
    if (ip.length == 4) {
      return dotted(ip, 0);
    }
    if (ip.length != 16) {
      StringBuilder hex = new StringBuilder("?");
      for (byte b : ip) {
        hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return hex.toString();
    }
    boolean mapped = ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    for (int i = 0; i < 10 && mapped; i++) {
      mapped = ip[i] == 0;
    }
    if (mapped) {
      return dotted(ip, 12);
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((ip[2 * i] & 0xff) << 8) | (ip[2 * i + 1] & 0xff);
    }
    // The longest run of at least two zero groups becomes "::".
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }

  private static String dotted(byte[] ip, int from) {
    return (ip[from] & 0xff) + "." + (ip[from + 1] & 0xff) + "." + (ip[from + 2] & 0xff) + "." + (ip[from + 3] & 0xff);
  }
}
