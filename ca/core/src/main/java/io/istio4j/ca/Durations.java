package io.istio4j.ca;

import java.time.Duration;

/**
 * Durations as Istio's flags write them ({@code 24h}, {@code 90d}, {@code 1h30m}, {@code 500ms},
 * {@code 8760h}), plus ISO-8601 ({@code PT24H}).
 */
public final class Durations {

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the text and the expected form
   */
  public static Duration parse(String text) {
    String s = text.strip();
    if (s.startsWith("P") || s.startsWith("p")) {
      try {
        return Duration.parse(s);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("duration '" + text + "' (expected: e.g. 24h, 90d, 1h30m, 500ms or PT24H)", e);
      }
    }
    if (s.isEmpty()) {
      throw new IllegalArgumentException("duration '' (expected: e.g. 24h, 90d, 1h30m, 500ms)");
    }
    Duration total = Duration.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && Character.isDigit(s.charAt(i))) {
        i++;
      }
      if (start == i || i - start > 12) {
        throw new IllegalArgumentException("duration '" + text + "' (expected: e.g. 24h, 90d, 1h30m, 500ms)");
      }
      long n = Long.parseLong(s.substring(start, i));
      int unitStart = i;
      while (i < s.length() && Character.isLetter(s.charAt(i))) {
        i++;
      }
      String unit = s.substring(unitStart, i);
      total = total.plus(switch (unit) {
        case "d" -> Duration.ofDays(n);
        case "h" -> Duration.ofHours(n);
        case "m" -> Duration.ofMinutes(n);
        case "s" -> Duration.ofSeconds(n);
        case "ms" -> Duration.ofMillis(n);
        default -> throw new IllegalArgumentException("duration '" + text + "': unit '" + unit
            + "' (expected: d, h, m, s or ms)");
      });
    }
    return total;
  }

  /** A short form for logs and docs: {@code 24h}, {@code 90d}, {@code 1h30m}. */
  public static String format(Duration d) {
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder sb = new StringBuilder();
    long days = d.toDays();
    if (days > 0 && d.toHoursPart() == 0 && d.toMinutesPart() == 0 && d.toSecondsPart() == 0 && d.toMillisPart() == 0) {
      return days + "d";
    }
    long hours = d.toHours();
    if (hours > 0) {
      sb.append(hours).append('h');
    }
    if (d.toMinutesPart() > 0) {
      sb.append(d.toMinutesPart()).append('m');
    }
    if (d.toSecondsPart() > 0) {
      sb.append(d.toSecondsPart()).append('s');
    }
    if (d.toMillisPart() > 0) {
      sb.append(d.toMillisPart()).append("ms");
    }
    return sb.toString();
  }
}
