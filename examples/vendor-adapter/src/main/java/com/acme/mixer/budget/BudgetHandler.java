package com.acme.mixer.budget;

import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.template.quota.QuotaAsyncHandler;
import io.istio4j.template.quota.QuotaInstance;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A fixed amount per window for each distinct set of dimension values; a key's window starts with
 * its first allocation. It implements the generated
 * {@code QuotaAsyncHandler}: Mixer does not give it a thread of its own, and it answers with a
 * stage. Here the stage is already complete; a handler whose backend has a non-blocking client
 * (Redis, HTTP) returns that client's future instead, and no thread waits for the answer.
 */
final class BudgetHandler implements QuotaAsyncHandler {

  /** Dimension values come from clients: past this many keys, windows that ended are dropped. */
  private static final int MAX_KEYS = 10_000;

  private final long maxAmount;
  private final Duration window;
  private final Clock clock;
  private final Map<String, Window> windows = new ConcurrentHashMap<>();

  BudgetHandler(long maxAmount, Duration window, Clock clock) {
    this.maxAmount = maxAmount;
    this.window = window;
    this.clock = clock;
  }

  @Override
  public CompletionStage<QuotaResult> handleQuotaAsync(QuotaInstance instance, QuotaArgs args) {
    if (args.amount() <= 0) {
      return CompletableFuture.completedFuture(QuotaResult.granted(0, window));
    }
    long now = clock.millis();
    // Go's text of each value, so an IP address keys as 10.0.0.1 as it would in upstream's Mixer.
    StringBuilder key = new StringBuilder(instance.name());
    new TreeMap<>(instance.dimensions()).forEach((k, v) -> key.append(';').append(k).append('=')
        .append(GoValues.format(v)));
    if (windows.size() > MAX_KEYS) {
      windows.values().removeIf(old -> now - old.start >= window.toMillis());
    }
    long[] granted = new long[1];
    windows.compute(key.toString(), (k, old) -> { // atomic per key: concurrent calls never overspend
      Window w = old == null || now - old.start >= window.toMillis() ? new Window(now) : old;
      long left = maxAmount - w.used;
      granted[0] = args.amount() <= left ? args.amount() : args.bestEffort() ? left : 0;
      w.used += granted[0];
      return w;
    });
    return CompletableFuture.completedFuture(QuotaResult.granted(granted[0], window));
  }

  @Override
  public void close() {
    windows.clear();
  }

  private static final class Window {
    final long start;
    long used;

    Window(long start) {
      this.start = start;
    }
  }
}
