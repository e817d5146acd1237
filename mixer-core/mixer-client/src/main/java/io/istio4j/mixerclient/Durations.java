package io.istio4j.mixerclient;

import com.google.protobuf.Duration;

/** Conversions between protobuf durations and nanoseconds, saturating instead of overflowing. */
final class Durations {
  /** Longer validity than this is taken as this: keeps {@code now + valid} far from overflow. */
  static final long MAX_VALID_NANOS = 24L * 3600 * 1_000_000_000L;

  private Durations() {}

  /** {@code d} in nanoseconds, clamped to 0..{@link #MAX_VALID_NANOS}. */
  static long toNanos(Duration d) {
    if (d.getSeconds() < 0 || (d.getSeconds() == 0 && d.getNanos() <= 0)) {
      return 0;
    }
    if (d.getSeconds() >= MAX_VALID_NANOS / 1_000_000_000L) {
      return MAX_VALID_NANOS;
    }
    return d.getSeconds() * 1_000_000_000L + d.getNanos();
  }
}
