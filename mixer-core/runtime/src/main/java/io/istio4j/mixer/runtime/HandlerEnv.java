package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.FileOutputPolicy;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.ReportedSpan;
import io.istio4j.adapter.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Env} of one handler: shared executors, with the handler's tasks tracked so that
 * {@link #close()} cancels them. A task that throws is logged; a periodic one keeps its schedule.
 */
public final class HandlerEnv implements Env, AutoCloseable {

  private final Logger logger;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService daemons;
  private final AdapterMetrics metrics;
  private final FileOutputPolicy fileOutputPolicy;
  private final SpanReporter spans;
  private final Set<Future<?>> tasks = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;
  private volatile @Nullable String error;

  /** An env that allows no file output. */
  public HandlerEnv(
      String adapter,
      String handler,
      Clock clock,
      ScheduledExecutorService scheduler,
      ExecutorService daemons,
      AdapterMetrics metrics) {
    this(adapter, handler, clock, scheduler, daemons, metrics, FileOutputPolicy.none());
  }

  /**
   * @param adapter the adapter name
   * @param handler the handler's FQN
   * @param scheduler runs short background and timed work
   * @param daemons runs long-lived loops, one thread each
   * @param fileOutputPolicy where the handler may write files ({@code --allowedOutputDir})
   */
  public HandlerEnv(
      String adapter,
      String handler,
      Clock clock,
      ScheduledExecutorService scheduler,
      ExecutorService daemons,
      AdapterMetrics metrics,
      FileOutputPolicy fileOutputPolicy) {
    this(adapter, handler, clock, scheduler, daemons, metrics, fileOutputPolicy, SpanReporter.NONE);
  }

  /** @param spans where {@link #reportSpan(ReportedSpan)} sends spans */
  public HandlerEnv(
      String adapter,
      String handler,
      Clock clock,
      ScheduledExecutorService scheduler,
      ExecutorService daemons,
      AdapterMetrics metrics,
      FileOutputPolicy fileOutputPolicy,
      SpanReporter spans) {
    this.spans = requireNonNull(spans, "spans");
    this.logger = LoggerFactory.getLogger("io.istio4j.adapter." + adapter + "." + handler);
    this.clock = requireNonNull(clock, "clock");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.daemons = requireNonNull(daemons, "daemons");
    this.metrics = requireNonNull(metrics, "metrics");
    this.fileOutputPolicy = requireNonNull(fileOutputPolicy, "fileOutputPolicy");
  }

  @Override
  public Logger logger() {
    return logger;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Future<?> scheduleWork(Runnable work) {
    return track(scheduler.submit(guard(work)));
  }

  @Override
  public Future<?> scheduleDaemon(Runnable daemon) {
    return track(daemons.submit(guard(daemon)));
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
    return track(scheduler.schedule(guard(work), delay.toNanos(), TimeUnit.NANOSECONDS));
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
    return track(scheduler.scheduleAtFixedRate(
        guard(work), initialDelay.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS));
  }

  @Override
  public AdapterMetrics metrics() {
    return metrics;
  }

  @Override
  public FileOutputPolicy fileOutputPolicy() {
    return fileOutputPolicy;
  }

  @Override
  public Span currentSpan() {
    return CurrentSpan.get();
  }

  @Override
  public boolean reportSpan(ReportedSpan span) {
    return spans.report(requireNonNull(span, "span"));
  }

  @Override
  public boolean tracingEnabled() {
    return spans.enabled();
  }

  @Override
  public void reportError(String message) {
    // Escaped and bounded: the text may quote a backend's reply, and it goes to the log and /debug/config.
    message = LogText.escape(requireNonNull(message, "message"), 1024);
    String previous = error;
    if (!message.equals(previous)) {
      error = message;
      if (previous == null) { // one line when the handler turns unhealthy, not one per failure
        logger.warn("handler error: {}", message);
      }
    }
  }

  @Override
  public void clearError() {
    if (error != null) {
      error = null;
      logger.info("handler error cleared");
    }
  }

  /** What the handler last reported with {@link #reportError(String)}; null when healthy. */
  public @Nullable String error() {
    return error;
  }

  /** Cancels (and interrupts) every task of the handler; later scheduling is refused. */
  @Override
  public void close() {
    closed = true;
    for (Future<?> f : tasks) {
      f.cancel(true);
    }
    tasks.clear();
  }

  private <F extends Future<?>> F track(F future) {
    if (closed) {
      future.cancel(true);
      throw new IllegalStateException("the handler is closed; no more background work");
    }
    tasks.add(future);
    tasks.removeIf(Future::isDone);
    return future;
  }

  private Runnable guard(Runnable work) {
    requireNonNull(work, "work");
    return () -> {
      try {
        work.run();
      } catch (RuntimeException | Error e) {
        logger.error("background work failed", e);
      }
    };
  }
}
