package io.istio4j.adapter.testkit;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.atomic.AtomicReference;

/** A clock that stands still until the test moves it; clocks in other zones share its time. */
final class ManualClock extends Clock {

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  ManualClock(Instant start, ZoneId zone) {
    this(new AtomicReference<>(requireNonNull(start, "start")), zone);
  }

  private ManualClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = requireNonNull(zone, "zone");
  }

  void advance(Duration d) {
    requireNonNull(d, "d");
    if (d.isNegative()) {
      throw new IllegalArgumentException("d: " + d + " (expected: >= 0; the clock never goes back)");
    }
    now.updateAndGet(t -> t.plus(d));
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  @Override
  public Clock withZone(ZoneId otherZone) {
    return otherZone.equals(zone) ? this : new ManualClock(now, otherZone);
  }

  @Override
  public Instant instant() {
    return now.get();
  }
}
