package io.istio4j.adapters.list;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.istio4j.mixer.runtime.RegistryAdapterMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Delayed;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Env whose clock the test moves and whose scheduled work never runs by itself: the test calls
 * the handler's refresh when it wants one, so ttl tests need no sleeping.
 */
final class TestEnv implements Env {

  /** Work the handler asked to run periodically. */
  record Periodic(Runnable work, Duration initialDelay, Duration period) {}

  final List<Periodic> periodic = new CopyOnWriteArrayList<>();
  final PrometheusRegistry registry = new PrometheusRegistry();
  private final AdapterMetrics metrics = new RegistryAdapterMetrics(registry);
  private volatile Instant now = Instant.parse("2018-01-15T10:00:00Z");

  private final Clock clock = new Clock() {
    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };

  /** Moves the clock forward. */
  void advance(Duration d) {
    now = now.plus(d);
  }

  /** The value of listchecker_fetches for a result, 0 if never counted. */
  double fetches(String result) {
    for (MetricSnapshot s : registry.scrape()) {
      if (s instanceof CounterSnapshot c && c.getMetadata().getName().equals("listchecker_fetches")) {
        return c.getDataPoints().stream()
            .filter(p -> p.getLabels().get("result").equals(result))
            .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
            .sum();
      }
    }
    return 0;
  }

  @Override
  public Logger logger() {
    return LoggerFactory.getLogger("io.istio4j.adapter.listchecker.test");
  }

  @Override
  public Clock clock() {
    return clock;
  }

  @Override
  public Future<?> scheduleWork(Runnable work) {
    throw new UnsupportedOperationException("the list adapter runs no one-off background work");
  }

  @Override
  public Future<?> scheduleDaemon(Runnable daemon) {
    throw new UnsupportedOperationException("the list adapter runs no daemons");
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
    throw new UnsupportedOperationException("the list adapter schedules only periodic work");
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
    periodic.add(new Periodic(work, initialDelay, period));
    return new NeverRuns();
  }

  @Override
  public AdapterMetrics metrics() {
    return metrics;
  }

  private static final class NeverRuns implements ScheduledFuture<Object> {
    private volatile boolean cancelled;

    @Override
    public long getDelay(TimeUnit unit) {
      return Long.MAX_VALUE;
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      cancelled = true;
      return true;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public boolean isDone() {
      return cancelled;
    }

    @Override
    public Object get() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Object get(long timeout, TimeUnit unit) {
      throw new UnsupportedOperationException();
    }
  }
}
