package io.istio4j.mixerclient;

import java.util.ArrayDeque;

/**
 * One quota's local pool of amounts Mixer granted (mixerclient's {@code QuotaPrefetch}, spec §7.3).
 *
 * <p>Requests take from the pool; an amount Mixer granted is handed out at most once and never after
 * the grant's {@code valid_duration} (capped at {@code maxExpiration}), so over any window the pool
 * grants no more than Mixer granted. When the pool drops under half of the recent per-window demand
 * it asks for a refill of about that demand (at least {@code minPrefetch}), one refill at a time.
 * When Mixer grants less than asked (the quota is exhausted) the pool waits {@code closeWait} before
 * asking again, and requests it cannot serve meanwhile are denied locally.
 *
 * <p>Thread-safe: every method holds the pool's monitor for a few arithmetic operations; calls to
 * Mixer happen outside it.
 */
final class QuotaPool {

  /** Prefetch tuning; mixerclient's defaults are in {@link #DEFAULTS}. */
  record Options(long predictWindowNanos, long minPrefetch, long closeWaitNanos, long maxExpirationNanos) {
    static final Options DEFAULTS = new Options(1_000_000_000L, 10, 500_000_000L, 60_000_000_000L);
  }

  private final Options options;
  /** Grants not used up: {remaining amount, expiry time}, oldest first. */
  private final ArrayDeque<long[]> grants = new ArrayDeque<>();
  private long available;
  private long windowStart;
  private long demandThisWindow;
  private long demandLastWindow;
  private boolean refilling;
  private long closedUntil;
  private boolean closed;

  QuotaPool(Options options, long now) {
    this.options = options;
    this.windowStart = now;
  }

  /** Takes {@code amount} from the pool; false (taking nothing) when the pool holds less. */
  synchronized boolean take(long amount, long now) {
    expire(now);
    roll(now);
    demandThisWindow += amount;
    if (available < amount) {
      return false;
    }
    long left = amount;
    while (left > 0) {
      long[] g = grants.peekFirst();
      long used = Math.min(left, g[0]);
      g[0] -= used;
      left -= used;
      if (g[0] == 0) {
        grants.pollFirst();
      }
    }
    available -= amount;
    return true;
  }

  /** Whether Mixer said recently that the quota is exhausted (deny locally, do not ask). */
  synchronized boolean exhausted(long now) {
    return closed && now - closedUntil < 0;
  }

  /**
   * The amount to prefetch now, marking a refill in flight; 0 when the pool holds enough, a refill is
   * in flight, or Mixer said recently that the quota is exhausted.
   */
  synchronized long startRefill(long now, boolean force) {
    expire(now);
    roll(now);
    if (refilling || exhausted(now)) {
      return 0;
    }
    long predicted = Math.max(demandLastWindow, demandThisWindow);
    if (!force && available >= Math.max(1, predicted / 2)) {
      return 0;
    }
    refilling = true;
    return Math.max(options.minPrefetch(), predicted);
  }

  /** Mixer granted {@code granted} of {@code asked}, valid for {@code validNanos} (0: one minute). */
  synchronized void refilled(long asked, long granted, long validNanos, long now) {
    refilling = false;
    long valid = validNanos > 0 ? Math.min(validNanos, options.maxExpirationNanos()) : 60_000_000_000L;
    valid = Math.min(valid, options.maxExpirationNanos());
    if (granted > 0) {
      grants.addLast(new long[] {granted, now + valid});
      available += granted;
    }
    if (granted < asked) {
      closed = true;
      closedUntil = now + options.closeWaitNanos();
    } else {
      closed = false;
    }
  }

  /** The refill failed (transport error): allow the next one. */
  synchronized void refillFailed() {
    refilling = false;
  }

  synchronized long available(long now) {
    expire(now);
    return available;
  }

  private void expire(long now) {
    // Grants arrive in time order with a bounded validity, but a shorter one may follow a longer one:
    // scan all (the deque holds a handful of grants at most).
    grants.removeIf(g -> {
      if (now - g[1] >= 0) {
        available -= g[0];
        return true;
      }
      return false;
    });
  }

  private void roll(long now) {
    long window = options.predictWindowNanos();
    long elapsed = now - windowStart;
    if (elapsed < window) {
      return;
    }
    demandLastWindow = elapsed < 2 * window ? demandThisWindow : 0;
    demandThisWindow = 0;
    windowStart = elapsed < 2 * window ? windowStart + window : now;
  }
}
