package io.istio4j.adapters.stdio;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

/**
 * How attribute values read in a line: the notations upstream's zap encoder gives them, so that
 * tools written for upstream's output keep working.
 */
final class ValueText {

  /** zap's ISO8601TimeEncoder layout, always in UTC. */
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private ValueText() {}

  /** {@code 2017-09-01T12:00:00.000Z}: millisecond precision, UTC. */
  static String time(Instant t) {
    try {
      return TIME.format(t);
    } catch (DateTimeException e) { // beyond year 999999999
      return t.toString();
    }
  }

  /** Go's {@code time.Duration.String()}: {@code 0s}, {@code 250ns}, {@code 1.5µs}, {@code 25ms}, {@code 1h2m3.5s}. */
  static String duration(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    String sign = d.isNegative() ? "-" : "";
    Duration a = d.abs();
    long nanos;
    try {
      nanos = a.toNanos();
    } catch (ArithmeticException e) { // beyond Go's int64 nanoseconds (about 292 years)
      return sign + a.getSeconds() + "s";
    }
    if (nanos < 1_000L) {
      return sign + nanos + "ns";
    }
    if (nanos < 1_000_000L) {
      return sign + decimal(nanos, 1_000L) + "µs";
    }
    if (nanos < 1_000_000_000L) {
      return sign + decimal(nanos, 1_000_000L) + "ms";
    }
    long hours = nanos / 3_600_000_000_000L;
    long minutes = nanos / 60_000_000_000L % 60;
    StringBuilder sb = new StringBuilder(sign);
    if (hours > 0) {
      sb.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      sb.append(minutes).append('m');
    }
    return sb.append(decimal(nanos % 60_000_000_000L, 1_000_000_000L)).append('s').toString();
  }

  /** {@code value / unit} with the fraction's trailing zeros left out, as Go prints it. */
  private static String decimal(long value, long unit) {
    // Integer arithmetic: an access log formats a duration per record, and BigDecimal's division
    // showed in Report profiles. value >= 0 and unit a power of ten.
    long whole = value / unit;
    long fraction = value % unit;
    if (fraction == 0) {
      return Long.toString(whole);
    }
    int digits = Long.toString(unit).length() - 1;
    while (fraction % 10 == 0) {
      fraction /= 10;
      digits--;
    }
    String f = Long.toString(fraction);
    StringBuilder sb = new StringBuilder(24).append(whole).append('.');
    for (int i = f.length(); i < digits; i++) {
      sb.append('0');
    }
    return sb.append(f).toString();
  }

  /**
   * A number as Go's {@code strconv.FormatFloat(f, 'f', -1, 64)}: no exponent, no trailing zeros
   * ({@code 1}, {@code 0.25}); NaN and infinities as zap writes them ({@code NaN}, {@code +Inf},
   * {@code -Inf}).
   */
  static String number(double d) {
    if (Double.isNaN(d)) {
      return "NaN";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "+Inf" : "-Inf";
    }
    if (d == Math.rint(d) && Math.abs(d) < 0x1p53) {
      return Long.toString((long) d); // a whole number, the common case (sizes, counts, codes)
    }
    return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }

  /**
   * An IP address as Go's {@code net.IP.String()}: dotted for IPv4 (also IPv4-mapped IPv6),
   * RFC 5952 for IPv6 ({@code 2001:db8::1}); other lengths are not addresses and read as base64,
   * as zap writes any other bytes.
   */
  static String bytes(byte[] b) {
    if (b.length == 4) {
      return ipv4(b, 0);
    }
    if (b.length != 16) {
      return Base64.getEncoder().encodeToString(b);
    }
    if (isIpv4Mapped(b)) {
      return ipv4(b, 12);
    }
    // The longest run of two or more zero groups (the first, on a tie) becomes "::".
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && group(b, j) == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(group(b, i)));
    }
    return sb.toString();
  }

  private static boolean isIpv4Mapped(byte[] b) {
    for (int i = 0; i < 10; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
  }

  private static String ipv4(byte[] b, int from) {
    return (b[from] & 0xff) + "." + (b[from + 1] & 0xff) + "." + (b[from + 2] & 0xff) + "." + (b[from + 3] & 0xff);
  }

  private static int group(byte[] b, int i) {
    return (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
  }
}
