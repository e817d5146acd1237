package io.istio4j.mixer.attribute;

import io.istio4j.adapter.GoValues;
import java.time.Duration;

/**
 * Durations in Go's notation, which Istio's config, flags and tools use: {@code 10s}, {@code 1.5s},
 * {@code 100ms}, {@code 1m30s}, {@code -2h}. The notation lives once, in the SDK's {@link
 * GoValues}; this is its name for mixer-core's flags and config.
 *
 * <pre>{@code
 * GoDuration.parse("1m30s");                     // PT1M30S
 * GoDuration.format(Duration.ofMillis(19));      // "19ms"
 * }</pre>
 */
public final class GoDuration {

  private GoDuration() {}

  /** Parses a Go duration; throws {@link IllegalArgumentException} naming the text otherwise. */
  public static Duration parse(String text) {
    return GoValues.parseDuration(text);
  }

  /** Formats as Go's {@code time.Duration.String()} does: {@code 1h2m3.5s}, {@code 19ms}, {@code 0s}. */
  public static String format(Duration d) {
    return GoValues.duration(d);
  }
}
