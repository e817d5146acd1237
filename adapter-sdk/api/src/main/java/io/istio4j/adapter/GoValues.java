package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Attribute values as upstream's Go code wrote and read them. Where an adapter turns a value into
 * text that someone compares with upstream's (a Prometheus label, a quota cell key or override, a
 * log line), use these forms, so that the same request gives the same text as in Istio 0.2: an IP
 * address is {@code 10.0.0.1} (Go's {@code net.IP.String()}), never {@code [B@1b2c3d}; a duration is
 * {@code 1.5s} (Go's {@code time.Duration.String()}), never {@code PT1.5S}.
 *
 * <pre>{@code
 * GoValues.format("reviews");                        // "reviews"
 * GoValues.format(new byte[] {10, 0, 0, 1});         // "10.0.0.1"
 * GoValues.format(Duration.ofMillis(1500));          // "1.5s"
 * GoValues.format(1e6);                              // "1e+06"
 * GoValues.parseIp("::ffff:10.0.0.1");               // 16 bytes
 * GoValues.parseDuration("1m30s");                   // PT1M30S
 * }</pre>
 *
 * <p>Every method is thread-safe and allocation-light; none throws for a value of a type it does not
 * know ({@link #format} falls back to {@code String.valueOf}).
 */
public final class GoValues {

  private static final byte[] V4_IN_V6_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};
  private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

  private GoValues() {}

  // ---- any value ----

  /**
   * A value as Go's {@code fmt.Sprint} (the {@code %v} verb) prints the attribute's Go value:
   * strings as they are, integers in decimal, DOUBLE as {@link #float64}, BOOL as {@code
   * true}/{@code false}, DURATION as {@link #duration}, TIMESTAMP as {@link #time}, IP_ADDRESS as
   * {@link #ip}, STRING_MAP as {@code map[k1:v1 k2:v2]} in key order.
   */
  public static String format(Object value) {
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
    if (value instanceof byte[] address) {
      return ip(address);
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

  // ---- numbers ----

  /**
   * Go's {@code strconv.FormatFloat(v, 'g', -1, 64)}, which {@code %v} uses: the shortest digits that
   * read back as {@code v}, with an exponent below 1e-4 and from 1e21 on ({@code 0.005}, {@code
   * 123456.5}, {@code 1e+06}, {@code 1.5e-300}), {@code +Inf}, {@code -Inf}, {@code NaN}.
   */
  public static String float64(double v) {
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

  /**
   * Go's {@code strconv.FormatFloat(v, 'f', -1, 64)}: never an exponent, no trailing zeros ({@code
   * 1}, {@code 0.25}, {@code 0.0000001}); {@code NaN}, {@code +Inf}, {@code -Inf}.
   */
  public static String decimal(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 0x1p53) {
      return Long.toString((long) v); // a whole number, the common case (sizes, counts, codes)
    }
    return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
  }

  /** Go's {@code strconv.ParseFloat(s, 64)}; NaN when {@code s} is not a number. */
  public static double parseFloat(String s) {
    requireNonNull(s, "s");
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

  // ---- durations ----

  /**
   * Go's {@code time.Duration.String()}: {@code 0s}, {@code 250ns}, {@code 1.5µs}, {@code 25ms},
   * {@code 1.5s}, {@code 1m30s}, {@code 1h2m3.5s}. A duration beyond Go's int64 nanoseconds (about
   * 292 years) is clamped to the largest one, as Go's {@code durationpb.AsDuration} does.
   */
  public static String duration(Duration d) {
    requireNonNull(d, "d");
    long nanos;
    try {
      nanos = d.toNanos();
    } catch (ArithmeticException tooLong) {
      nanos = d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    if (nanos == 0) {
      return "0s";
    }
    boolean negative = nanos < 0;
    long u = negative ? -nanos : nanos; // unsigned, as Go does, so that MIN_VALUE works too
    StringBuilder out = new StringBuilder(24);
    if (negative) {
      out.append('-');
    }
    if (Long.compareUnsigned(u, 1_000_000_000L) < 0) {
      if (u < 1_000L) {
        return out.append(u).append("ns").toString();
      }
      if (u < 1_000_000L) {
        return appendFraction(out, u, 1_000L, 3).append("µs").toString();
      }
      return appendFraction(out, u, 1_000_000L, 6).append("ms").toString();
    }
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
    return appendDigits(out, fraction, 9).append('s').toString();
  }

  /** {@code v / unit} (unit = 10^precision) with the fraction's trailing zeros left out. */
  private static StringBuilder appendFraction(StringBuilder out, long v, long unit, int precision) {
    out.append(v / unit);
    return appendDigits(out, v % unit, precision);
  }

  /** {@code .fraction} in {@code precision} digits without trailing zeros; nothing for 0. */
  private static StringBuilder appendDigits(StringBuilder out, long fraction, int precision) {
    if (fraction == 0) {
      return out;
    }
    int digits = precision;
    while (fraction % 10 == 0) {
      fraction /= 10;
      digits--;
    }
    String f = Long.toString(fraction);
    out.append('.');
    for (int i = f.length(); i < digits; i++) {
      out.append('0');
    }
    return out.append(f);
  }

  /**
   * Parses a Go duration ({@code time.ParseDuration}): {@code 10s}, {@code 1.5s}, {@code 100ms},
   * {@code 1m30s}, {@code -2h}, {@code 300us}, {@code 0}; surrounding spaces are ignored. Throws
   * {@link IllegalArgumentException} naming the text otherwise, or when it exceeds Go's int64
   * nanoseconds. Fractions of a nanosecond are dropped.
   */
  public static Duration parseDuration(String text) {
    requireNonNull(text, "text");
    Duration d = parseDurationOrNull(text);
    if (d == null) {
      throw new IllegalArgumentException(
          "invalid duration: " + text + " (expected: like 10s, 1.5s, 100ms, 1m30s)");
    }
    return d;
  }

  /**
   * {@link #parseDuration}, but null instead of an exception when {@code text} is not a duration in
   * range: for callers that try many strings (every string literal of an expression may be one).
   */
  public static Duration parseDurationOrNull(String text) {
    String s = text.trim();
    int i = 0;
    int n = s.length();
    boolean negative = false;
    if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
      negative = s.charAt(i) == '-';
      i++;
    }
    if (s.substring(i).equals("0")) {
      return Duration.ZERO;
    }
    if (i == n) {
      return null;
    }
    BigDecimal nanos = BigDecimal.ZERO;
    while (i < n) { // one part: a number and its unit, in a loop however many parts
      int start = i;
      while (i < n && isDigit(s.charAt(i))) {
        i++;
      }
      boolean whole = i > start;
      if (i < n && s.charAt(i) == '.') {
        int point = i++;
        while (i < n && isDigit(s.charAt(i))) {
          i++;
        }
        if (!whole && i == point + 1) {
          return null; // "." alone is no number
        }
      } else if (!whole) {
        return null;
      }
      String number = s.substring(start, i);
      int unitStart = i;
      while (i < n && !isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      long unit = switch (s.substring(unitStart, i)) {
        case "ns" -> 1L;
        case "us", "µs", "μs" -> 1_000L; // U+00B5 and U+03BC, as Go accepts both
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        default -> 0L;
      };
      if (unit == 0) {
        return null;
      }
      nanos = nanos.add(new BigDecimal(number.endsWith(".") ? number + "0" : number)
          .multiply(BigDecimal.valueOf(unit)));
      if (nanos.compareTo(new BigDecimal(MAX_NANOS).add(BigDecimal.ONE)) > 0) {
        return null; // out of Go's range; stop before a long input makes a huge number
      }
    }
    BigInteger total = nanos.toBigInteger();
    if (total.compareTo(MAX_NANOS) > 0) {
      return null;
    }
    long v = total.longValue();
    return Duration.ofNanos(negative ? -v : v);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  // ---- times ----

  /**
   * Go's {@code time.Time.String()} of a UTC time: {@code 2017-09-20 10:11:12.5 +0000 UTC} (the
   * fraction without trailing zeros, none when whole).
   */
  public static String time(Instant t) {
    requireNonNull(t, "t");
    LocalDateTime u;
    try {
      u = LocalDateTime.ofEpochSecond(t.getEpochSecond(), 0, ZoneOffset.UTC);
    } catch (DateTimeException beyondJavaTime) {
      return t.toString();
    }
    StringBuilder out = new StringBuilder(40);
    int year = u.getYear();
    if (year < 0) {
      out.append('-');
    }
    pad(out, Math.abs(year), 4).append('-');
    pad(out, u.getMonthValue(), 2).append('-');
    pad(out, u.getDayOfMonth(), 2).append(' ');
    pad(out, u.getHour(), 2).append(':');
    pad(out, u.getMinute(), 2).append(':');
    pad(out, u.getSecond(), 2);
    return appendDigits(out, t.getNano(), 9).append(" +0000 UTC").toString();
  }

  private static StringBuilder pad(StringBuilder out, int v, int width) {
    String s = Integer.toString(v);
    for (int i = s.length(); i < width; i++) {
      out.append('0');
    }
    return out.append(s);
  }

  // ---- IP addresses ----

  /**
   * Go's {@code net.IP.String()}: dotted quad for 4 bytes and for IPv4-mapped IPv6 ({@code
   * ::ffff:10.0.0.1} prints {@code 10.0.0.1}), RFC 5952 for other IPv6 ({@code 2001:db8::1}: lower
   * case, the longest run of two or more zero groups as {@code ::}, the first on a tie), {@code
   * <nil>} for no bytes, and {@code ?} followed by hex for any other length.
   */
  public static String ip(byte[] address) {
    requireNonNull(address, "address");
    if (address.length == 4) {
      return dotted(address, 0);
    }
    if (address.length == 16 && isV4InV6(address)) {
      return dotted(address, 12);
    }
    if (address.length != 16) {
      if (address.length == 0) {
        return "<nil>";
      }
      StringBuilder hex = new StringBuilder(1 + 2 * address.length).append('?');
      for (byte b : address) {
        hex.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return hex.toString();
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && group(address, j) == 0) {
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
      out.append(Integer.toHexString(group(address, i)));
    }
    return out.toString();
  }

  private static String dotted(byte[] b, int from) {
    return (b[from] & 0xff) + "." + (b[from + 1] & 0xff) + "." + (b[from + 2] & 0xff) + "." + (b[from + 3] & 0xff);
  }

  private static int group(byte[] b, int i) {
    return (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
  }

  /** True for the 16 bytes of an IPv4-mapped IPv6 address, {@code ::ffff:a.b.c.d}. */
  public static boolean isV4InV6(byte[] address) {
    return address.length == 16 && Arrays.equals(address, 0, 12, V4_IN_V6_PREFIX, 0, 12);
  }

  /**
   * Equality as Go's {@code net.IP.Equal}: the 4-byte and the IPv4-mapped 16-byte forms of an IPv4
   * address are equal.
   */
  public static boolean ipEqual(byte[] a, byte[] b) {
    if (a.length == b.length) {
      return Arrays.equals(a, b);
    }
    if (a.length == 4 && isV4InV6(b)) {
      return Arrays.equals(b, 12, 16, a, 0, 4);
    }
    if (b.length == 4 && isV4InV6(a)) {
      return Arrays.equals(a, 12, 16, b, 0, 4);
    }
    return false;
  }

  /**
   * Parses an IP address literal as Go's {@code net.ParseIP} (Go 1.17 and later) does, without ever
   * asking DNS: 4 bytes for dotted IPv4, 16 bytes for any IPv6 text (including {@code
   * ::ffff:10.0.0.1} and a dotted IPv4 tail); null when {@code s} is not one. IPv4 is exactly four
   * decimal parts of 0 to 255 <b>without leading zeros</b> ({@code 010.0.0.1} is rejected, not read
   * as 10.0.0.1 or as octal 8.0.0.1: see docs/RATIONALE.md). Zones ({@code fe80::1%eth0}),
   * brackets, and BSD forms ({@code 10.1}, {@code 0x0a.0.0.1}) are rejected.
   */
  public static byte @Nullable [] parseIp(String s) {
    requireNonNull(s, "s");
    return s.indexOf(':') >= 0 ? parseV6(s) : parseV4(s, 0, s.length());
  }

  private static byte[] parseV4(String s, int from, int to) {
    byte[] out = new byte[4];
    int part = 0;
    int value = 0;
    int digits = 0;
    for (int i = from; i <= to; i++) {
      char c = i < to ? s.charAt(i) : '.'; // the end closes the last part
      if (c == '.') {
        if (digits == 0 || part == 4) {
          return null;
        }
        out[part++] = (byte) value;
        value = 0;
        digits = 0;
      } else if (c >= '0' && c <= '9') {
        if (digits > 0 && value == 0) {
          return null; // a leading zero
        }
        value = value * 10 + (c - '0');
        digits++;
        if (value > 255) {
          return null;
        }
      } else {
        return null;
      }
    }
    return part == 4 ? out : null;
  }

  private static byte[] parseV6(String s) {
    int gap = s.indexOf("::");
    byte[] out = new byte[16];
    if (gap < 0) {
      return groups(s, out, true) == 16 ? out : null;
    }
    if (s.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    byte[] head = new byte[16];
    byte[] tail = new byte[16];
    int h = groups(s.substring(0, gap), head, false);
    int t = groups(s.substring(gap + 2), tail, true);
    if (h < 0 || t < 0 || h + t > 14) { // "::" stands for at least one group
      return null;
    }
    System.arraycopy(head, 0, out, 0, h);
    System.arraycopy(tail, 0, out, 16 - t, t);
    return out;
  }

  /**
   * Reads colon-separated hex groups (the last one may be a dotted IPv4 address when {@code
   * v4Tail}) into {@code buf}; returns the number of bytes, or -1 when the text is invalid.
   */
  private static int groups(String part, byte[] buf, boolean v4Tail) {
    if (part.isEmpty()) {
      return 0;
    }
    int n = 0;
    int start = 0;
    while (true) {
      int colon = part.indexOf(':', start);
      int end = colon < 0 ? part.length() : colon;
      if (colon < 0 && v4Tail && part.indexOf('.', start) >= 0) {
        byte[] v4 = parseV4(part, start, end);
        if (v4 == null || n + 4 > 16) {
          return -1;
        }
        System.arraycopy(v4, 0, buf, n, 4);
        return n + 4;
      }
      int length = end - start;
      if (length < 1 || length > 4 || n + 2 > 16) {
        return -1;
      }
      int group = 0;
      for (int i = start; i < end; i++) {
        int digit = Character.digit(part.charAt(i), 16);
        if (digit < 0 || part.charAt(i) > 'f') { // ASCII hex only
          return -1;
        }
        group = group << 4 | digit;
      }
      buf[n++] = (byte) (group >>> 8);
      buf[n++] = (byte) group;
      if (colon < 0) {
        return n;
      }
      start = colon + 1;
    }
  }
}
