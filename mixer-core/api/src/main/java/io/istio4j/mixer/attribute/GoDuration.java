package io.istio4j.mixer.attribute;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in Go's notation, which Istio's config, flags and tools use: {@code 10s}, {@code 1.5s},
 * {@code 100ms}, {@code 1m30s}, {@code -2h}.
 *
 * <pre>{@code
 * GoDuration.parse("1m30s");                     // PT1M30S
 * GoDuration.format(Duration.ofMillis(19));      // "19ms"
 * }</pre>
 */
public final class GoDuration {

  private static final Pattern WHOLE = Pattern.compile("[-+]?((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

  private GoDuration() {}

  /** Parses a Go duration; throws {@link IllegalArgumentException} naming the text otherwise. */
  public static Duration parse(String text) {
    String s = text.trim();
    if (s.equals("0") || s.equals("+0") || s.equals("-0")) {
      return Duration.ZERO;
    }
    if (!WHOLE.matcher(s).matches()) {
      throw new IllegalArgumentException(
          "invalid duration: " + text + " (expected: like 10s, 1.5s, 100ms, 1m30s)");
    }
    BigDecimal nanos = BigDecimal.ZERO;
    Matcher m = PART.matcher(s);
    while (m.find()) {
      long unit = switch (m.group(2)) {
        case "ns" -> 1L;
        case "us", "µs", "μs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        default -> 3_600_000_000_000L;
      };
      nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)));
    }
    // Go durations are int64 nanoseconds; fractions of a nanosecond are truncated.
    java.math.BigInteger whole = nanos.toBigInteger();
    if (whole.bitLength() > 63) {
      throw new IllegalArgumentException("invalid duration: " + text + " (out of range)");
    }
    long n = whole.longValue();
    return Duration.ofNanos(s.startsWith("-") ? -n : n);
  }

  /** Formats as Go's {@code time.Duration.String()} does: {@code 1h2m3.5s}, {@code 19ms}, {@code 0s}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    boolean negative = d.isNegative();
    Duration a = d.abs();
    long totalNanos;
    try {
      totalNanos = a.toNanos();
    } catch (ArithmeticException e) {
      return (negative ? "-" : "") + a.getSeconds() + "s";
    }
    StringBuilder sb = new StringBuilder(negative ? "-" : "");
    if (totalNanos < 1_000_000_000L) {
      if (totalNanos < 1_000L) {
        return sb.append(totalNanos).append("ns").toString();
      }
      if (totalNanos < 1_000_000L) {
        return sb.append(fraction(totalNanos, 1_000L)).append("µs").toString();
      }
      return sb.append(fraction(totalNanos, 1_000_000L)).append("ms").toString();
    }
    long hours = totalNanos / 3_600_000_000_000L;
    long minutes = (totalNanos / 60_000_000_000L) % 60;
    long secNanos = totalNanos % 60_000_000_000L;
    if (hours > 0) {
      sb.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      sb.append(minutes).append('m');
    }
    return sb.append(fraction(secNanos, 1_000_000_000L)).append('s').toString();
  }

  private static String fraction(long value, long unit) {
    long whole = value / unit;
    long rest = value % unit;
    if (rest == 0) {
      return Long.toString(whole);
    }
    String digits = String.format("%0" + (Long.toString(unit).length() - 1) + "d", rest);
    int end = digits.length();
    while (digits.charAt(end - 1) == '0') {
      end--;
    }
    return whole + "." + digits.substring(0, end);
  }
}
