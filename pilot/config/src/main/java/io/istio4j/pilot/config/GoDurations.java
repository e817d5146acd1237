package io.istio4j.pilot.config;

import com.google.protobuf.Duration;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Durations as Istio 0.2 read them. Its JSON decoder (golang/protobuf's jsonpb) parsed a Duration
 * with Go's {@code time.ParseDuration}, so 0.2 configs say {@code 15m}, {@code 100ms} or {@code 1h30m}
 * as well as proto JSON's {@code 1.5s}; both forms are accepted here.
 */
final class GoDurations {
  private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);
  private static final BigInteger NANOS_PER_SECOND = BigInteger.valueOf(1_000_000_000L);

  private GoDurations() {}

  /**
   * Parses {@code [-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+} or {@code 0}.
   *
   * @throws IllegalArgumentException naming the text and the expected form
   */
  static Duration parse(String text) {
    String s = text.strip();
    boolean negative = false;
    if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
      negative = s.charAt(0) == '-';
      s = s.substring(1);
    }
    if (s.equals("0")) {
      return Duration.getDefaultInstance();
    }
    if (s.isEmpty()) {
      throw invalid(text);
    }
    BigDecimal total = BigDecimal.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      String number = s.substring(start, i);
      if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
        throw invalid(text);
      }
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') {
        i++;
      }
      long unitNanos = switch (s.substring(unitStart, i)) {
        case "ns" -> 1L;
        case "us", "µs", "μs" -> 1_000L;
        case "ms" -> 1_000_000L;
        case "s" -> 1_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "h" -> 3_600_000_000_000L;
        default -> throw invalid(text);
      };
      total = total.add(new BigDecimal(number).multiply(BigDecimal.valueOf(unitNanos)));
      if (total.compareTo(new BigDecimal(MAX_NANOS)) > 0) {
        throw new IllegalArgumentException("duration '" + text + "' is too long (at most about 292 years)");
      }
    }
    // Go truncates fractions of a nanosecond.
    BigInteger nanos = total.toBigInteger();
    BigInteger[] split = nanos.divideAndRemainder(NANOS_PER_SECOND);
    long seconds = split[0].longValueExact();
    int rest = split[1].intValueExact();
    return negative
        ? Duration.newBuilder().setSeconds(-seconds).setNanos(-rest).build()
        : Duration.newBuilder().setSeconds(seconds).setNanos(rest).build();
  }

  private static IllegalArgumentException invalid(String text) {
    return new IllegalArgumentException(
        "invalid duration '" + text + "' (expected: a number with a unit, e.g. 1.5s, 100ms, 15m, 1h30m)");
  }
}
