package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
  private final Set<Future<?>> tasks = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param adapter the adapter name
   * @param handler the handler's FQN
   * @param scheduler runs short background and timed work
   * @param daemons runs long-lived loops, one thread each
   */
  public HandlerEnv(
      String adapter,
      String handler,
      Clock clock,
      ScheduledExecutorService scheduler,
      ExecutorService daemons,
      AdapterMetrics metrics) {
    this.logger = LoggerFactory.getLogger("io.istio4j.adapter." + adapter + "." + handler);
    this.clock = requireNonNull(clock, "clock");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.daemons = requireNonNull(daemons, "daemons");
    this.metrics = requireNonNull(metrics, "metrics");
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
