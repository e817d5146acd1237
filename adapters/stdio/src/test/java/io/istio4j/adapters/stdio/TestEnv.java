package io.istio4j.adapters.stdio;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/** An {@link Env} on real threads, with a fixed clock, readable counters and captured log events. */
final class TestEnv implements Env, AutoCloseable {

  static final Instant NOW = Instant.parse("2017-09-01T12:00:00.5Z");
  private static final AtomicInteger IDS = new AtomicInteger();

  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  private final ExecutorService daemons = Executors.newCachedThreadPool();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger("test.stdio." + IDS.incrementAndGet());
  private final ListAppender<ILoggingEvent> events = new ListAppender<>();

  TestEnv() {
    events.start();
    logger.addAppender(events);
  }

  @Override
  public org.slf4j.Logger logger() {
    return logger;
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Future<?> scheduleWork(Runnable work) {
    return scheduler.submit(work);
  }

  private volatile boolean holdDaemons;

  /** Daemons scheduled from now on never run (a starved pool). */
  void holdDaemons() {
    holdDaemons = true;
  }

  @Override
  public Future<?> scheduleDaemon(Runnable daemon) {
    return holdDaemons ? new FutureTask<>(daemon, null) : daemons.submit(daemon);
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
    return scheduler.schedule(work, delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
    return scheduler.scheduleAtFixedRate(work, initialDelay.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public AdapterMetrics metrics() {
    return new AdapterMetrics() {
      @Override
      public Counter counter(String name, String help, String... labelNames) {
        return counters.computeIfAbsent(name, n -> Counter.builder().name(n).help(help).labelNames(labelNames).build());
      }

      @Override
      public Gauge gauge(String name, String help, String... labelNames) {
        throw new UnsupportedOperationException("the stdio adapter has no gauges");
      }
    };
  }

  /** The value of {@code stdio_dropped_lines} for the output and reason. */
  double dropped(String output, String reason) {
    Counter c = counters.get(StdioHandler.DROPPED_METRIC);
    return c == null ? 0 : c.labelValues(output, reason).get();
  }

  /** The messages logged at WARN, formatted. */
  List<String> warnings() {
    return events.list.stream()
        .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  @Override
  public void close() {
    daemons.shutdownNow();
    scheduler.shutdownNow();
  }
}
