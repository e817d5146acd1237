package io.istio4j.adapters.prometheus;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.LoggerFactory;

/** An {@link Env} without background work (the adapter schedules none), with readable counters and logs. */
final class TestEnv implements Env {

  private static final AtomicInteger IDS = new AtomicInteger();

  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger("test.prometheus." + IDS.incrementAndGet());
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
    return Clock.systemUTC();
  }

  @Override
  public Future<?> scheduleWork(Runnable work) {
    throw new UnsupportedOperationException("the prometheus adapter schedules no work");
  }

  @Override
  public Future<?> scheduleDaemon(Runnable daemon) {
    throw new UnsupportedOperationException("the prometheus adapter schedules no work");
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
    throw new UnsupportedOperationException("the prometheus adapter schedules no work");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
    throw new UnsupportedOperationException("the prometheus adapter schedules no work");
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
        throw new UnsupportedOperationException("the prometheus adapter has no gauges of its own");
      }
    };
  }

  /** The value of {@code prometheus_dropped_instances} for the instance and reason. */
  double dropped(String instance, String reason) {
    Counter c = counters.get(PrometheusHandler.DROPPED_METRIC);
    return c == null ? 0 : c.labelValues(instance, reason).get();
  }

  /** The messages logged at WARN, formatted. */
  List<String> warnings() {
    return events.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
  }
}
