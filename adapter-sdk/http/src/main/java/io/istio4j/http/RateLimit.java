package io.istio4j.http;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Lets one event through per period: for warnings a client could otherwise trigger in a loop. */
final class RateLimit {

  private final long periodNanos;
  private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);

  RateLimit(Duration period) {
    this.periodNanos = period.toNanos();
  }

  /** True for the first call and then at most once per period. */
  boolean tryAcquire() {
    long now = System.nanoTime();
    long due = next.get();
    return (due == Long.MIN_VALUE || now - due >= 0) && next.compareAndSet(due, now + periodNanos);
  }
}
