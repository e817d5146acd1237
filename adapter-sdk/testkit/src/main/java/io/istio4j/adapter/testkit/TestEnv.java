package io.istio4j.adapter.testkit;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.FileOutputPolicy;
import io.istio4j.mixer.runtime.RegistryAdapterMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * An {@link Env} for unit-testing a handler without a Mixer: a clock that moves only when the test
 * says so, every log line kept for assertions, metrics that can be read back, and scheduled work
 * that the test runs itself (or, if asked for, that runs on background threads of the env's own).
 *
 * <p>By default nothing scheduled runs by itself: {@link #scheduled()} lists what the handler asked
 * for, {@link #advance(Duration)} moves the clock, and {@link #runDue()} runs what is due by then,
 * so a test of a refresh interval or a ttl never sleeps. Background work that fails is logged at
 * ERROR and a periodic task keeps its schedule, as in Mixer.
 *
 * <pre>{@code
 * TestEnv env = TestEnv.create();
 * builder.setAdapterConfig(params);
 * Handler handler = builder.build(env); // fetches once and refreshes every minute
 * assertThat(env.scheduled()).singleElement()
 *     .satisfies(t -> assertThat(t.period()).isEqualTo(Duration.ofMinutes(1)));
 *
 * env.advance(Duration.ofMinutes(1));
 * assertThat(env.runDue()).isEqualTo(1);
 * assertThat(env.counterValue("acme_fetches", "result", "ok")).isEqualTo(2);
 * assertThat(env.messages(Level.WARN)).isEmpty();
 * }</pre>
 *
 * <p>A handler that runs a long-lived loop (a writer draining a queue) needs real threads:
 *
 * <pre>{@code
 * try (TestEnv env = TestEnv.builder().backgroundThreads().build()) {
 *   Handler handler = builder.build(env);
 *   ...
 * }
 * }</pre>
 *
 * <p>Safe to use from several threads. Close it when it was built with {@link
 * Builder#backgroundThreads()}: closing cancels every task and stops the threads.
 */
public final class TestEnv implements Env, AutoCloseable {

  /** Where the clock starts unless {@link Builder#startingAt(Instant)} says otherwise. */
  public static final Instant DEFAULT_START = Instant.parse("2017-10-10T00:00:00Z");

  /** The logger's name unless {@link Builder#loggerName(String)} says otherwise. */
  public static final String DEFAULT_LOGGER_NAME = "io.istio4j.adapter.test";

  private static final AtomicInteger THREAD_IDS = new AtomicInteger();

  private final CapturingLogger logger;
  private final ManualClock clock;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final AdapterMetrics metrics = new RegistryAdapterMetrics(registry);
  private final Queue<ScheduledTask> scheduled = new ConcurrentLinkedQueue<>();
  // Both null unless built with backgroundThreads(): then the test runs scheduled work itself.
  private final ScheduledExecutorService scheduler;
  private final ExecutorService daemons;
  private final FileOutputPolicy fileOutputPolicy;
  private volatile boolean closed;
  private volatile String error;

  private TestEnv(Builder b) {
    this.logger = new CapturingLogger(b.loggerName);
    this.fileOutputPolicy = FileOutputPolicy.allowing(b.outputDirs);
    this.clock = new ManualClock(b.start, ZoneOffset.UTC);
    if (b.backgroundThreads) {
      this.scheduler = Executors.newSingleThreadScheduledExecutor(threads("testenv-scheduler-"));
      this.daemons = Executors.newCachedThreadPool(threads("testenv-daemon-"));
    } else {
      this.scheduler = null;
      this.daemons = null;
    }
  }

  /** An env whose scheduled work runs only when the test runs it, with the clock at {@link #DEFAULT_START}. */
  public static TestEnv create() {
    return builder().build();
  }

  /** Starts describing an env. */
  public static Builder builder() {
    return new Builder();
  }

  /** A logger of this env alone; what it logs is in {@link #logged()} and goes to the logger of the same name. */
  @Override
  public Logger logger() {
    return logger;
  }

  /** A UTC clock that stands still until {@link #advance(Duration)} moves it. */
  @Override
  public Clock clock() {
    return clock;
  }

  /**
   * Moves the clock forward. Scheduled work does not run by itself; call {@link #runDue()}.
   *
   * @throws IllegalArgumentException if {@code d} is negative
   */
  public void advance(Duration d) {
    clock.advance(d);
  }

  @Override
  public Future<?> scheduleWork(Runnable work) {
    ScheduledTask task = track(ScheduledTask.Kind.WORK, work, Duration.ZERO, Duration.ZERO);
    if (scheduler != null) {
      task.carriedBy(scheduler.submit(task));
    }
    return task;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Without background threads a daemon is never started, not even by {@link #runDue()}: it
   * would not return. The handler sees a daemon that never got a thread (a starved pool); a test
   * may run it on a thread of its own with {@link ScheduledTask#run()}.
   */
  @Override
  public Future<?> scheduleDaemon(Runnable daemon) {
    ScheduledTask task = track(ScheduledTask.Kind.DAEMON, daemon, Duration.ZERO, Duration.ZERO);
    if (daemons != null) {
      task.carriedBy(daemons.submit(task));
    }
    return task;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
    requireNonNull(delay, "delay");
    ScheduledTask task = track(ScheduledTask.Kind.DELAYED, work, delay, Duration.ZERO);
    if (scheduler != null) {
      task.carriedBy(scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS));
    }
    return task;
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
    requireNonNull(initialDelay, "initialDelay");
    requireNonNull(period, "period");
    if (period.isNegative() || period.isZero()) {
      throw new IllegalArgumentException("period: " + period + " (expected: > 0)");
    }
    ScheduledTask task = track(ScheduledTask.Kind.PERIODIC, work, initialDelay, period);
    if (scheduler != null) {
      task.carriedBy(scheduler.scheduleAtFixedRate(
          task, initialDelay.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS));
    }
    return task;
  }

  /** Get-or-create metrics that behave as Mixer's do; read them with {@link #counterValue} and {@link #gaugeValue}. */
  @Override
  public AdapterMetrics metrics() {
    return metrics;
  }

  /**
   * Allows files in the directories given to {@link Builder#allowOutputDir(Path)}, as {@code mixs
   * server --allowedOutputDir} does; none by default, as in Mixer.
   */
  @Override
  public FileOutputPolicy fileOutputPolicy() {
    return fileOutputPolicy;
  }

  /** Keeps the message for {@link #reportedError()}, and logs it at WARN. */
  @Override
  public void reportError(String message) {
    requireNonNull(message, "message");
    if (!message.equals(error)) {
      logger.warn("handler error: {}", message);
    }
    error = message;
  }

  @Override
  public void clearError() {
    error = null;
  }

  /** What the handler last reported with {@link #reportError(String)}; null when it has not, or cleared it. */
  public String reportedError() {
    return error;
  }

  /** Everything scheduled on this env so far, in the order it was asked for, cancelled and done tasks included. */
  public List<ScheduledTask> scheduled() {
    return List.copyOf(scheduled);
  }

  /**
   * Runs, on the caller's thread, every task that is due by the clock: one-off work, delayed work
   * whose delay has passed, and periodic work once for each period that has passed (a fixed rate
   * catches up). Tasks run in the order they fall due; work they schedule that is due runs too.
   * Daemons are never run here.
   *
   * @return how many runs there were
   * @throws IllegalStateException if this env runs its work on background threads
   */
  public synchronized int runDue() {
    if (scheduler != null) {
      throw new IllegalStateException("this TestEnv runs scheduled work on background threads; runDue() is for "
          + "an env built without backgroundThreads()");
    }
    int runs = 0;
    for (ScheduledTask next = nextDue(); next != null; next = nextDue()) {
      next.runWhenDue();
      runs++;
    }
    return runs;
  }

  private ScheduledTask nextDue() {
    Instant now = clock.instant();
    ScheduledTask first = null;
    for (ScheduledTask t : scheduled) {
      if (t.kind != ScheduledTask.Kind.DAEMON && !t.isDone() && !t.due.isAfter(now)
          && (first == null || t.due.isBefore(first.due))) {
        first = t;
      }
    }
    return first;
  }

  /** Every line logged through {@link #logger()}, in order. */
  public List<LogLine> logged() {
    return logger.lines();
  }

  /** The formatted messages logged at {@code level}, in order. */
  public List<String> messages(Level level) {
    requireNonNull(level, "level");
    return logger.lines().stream().filter(l -> l.level() == level).map(LogLine::message).toList();
  }

  /**
   * The sum of the counter's data points that have all of the given labels; 0 if the counter was
   * never created or has no such data point.
   *
   * <pre>{@code
   * env.counterValue("stdio_dropped_lines", "output", "stdout", "reason", "buffer_full")
   * }</pre>
   *
   * @param name the name the counter was created with
   * @param labels label names and values, alternating; none for the sum of every data point
   */
  public double counterValue(String name, String... labels) {
    return MetricValues.counter(registry, name, labels);
  }

  /**
   * The sum of the gauge's data points that have all of the given labels (with all its labels, the
   * value of one data point); 0 if the gauge was never created or has no such data point.
   *
   * @param name the name the gauge was created with
   * @param labels label names and values, alternating
   */
  public double gaugeValue(String name, String... labels) {
    return MetricValues.gauge(registry, name, labels);
  }

  /** Cancels (and interrupts) every task and stops the env's threads; later scheduling is refused. */
  @Override
  public void close() {
    closed = true;
    for (ScheduledTask t : scheduled) {
      t.cancel(true);
    }
    if (scheduler != null) {
      scheduler.shutdownNow();
      daemons.shutdownNow();
    }
  }

  private ScheduledTask track(ScheduledTask.Kind kind, Runnable work, Duration delay, Duration period) {
    requireNonNull(work, "work");
    if (closed) {
      throw new IllegalStateException("the TestEnv is closed; no more background work");
    }
    ScheduledTask task = new ScheduledTask(kind, guard(work), delay, period, clock);
    scheduled.add(task);
    return task;
  }

  /** As Mixer does: a failure is logged, and a periodic task keeps its schedule. */
  private Runnable guard(Runnable work) {
    return () -> {
      try {
        work.run();
      } catch (RuntimeException | Error e) {
        logger.error("background work failed", e);
      }
    };
  }

  private static ThreadFactory threads(String prefix) {
    return r -> {
      Thread t = new Thread(r, prefix + THREAD_IDS.incrementAndGet());
      t.setDaemon(true); // a test that forgets close() still lets the JVM exit
      return t;
    };
  }

  /**
   * One line logged through the env's logger.
   *
   * @param level the level it was logged at
   * @param message the message with its arguments filled in
   * @param error the throwable logged with it, or null
   */
  public record LogLine(Level level, String message, Throwable error) {}

  /**
   * Work a handler scheduled on the env; also the future the handler got back, so {@link
   * #isCancelled()} tells whether the handler cancelled it.
   *
   * <pre>{@code
   * ScheduledTask refresh = env.scheduled().get(0);
   * refresh.run(); // what the scheduler would run
   * handler.close();
   * assertThat(refresh.isCancelled()).isTrue();
   * }</pre>
   */
  public static final class ScheduledTask extends FutureTask<Void> implements ScheduledFuture<Void> {

    /** Which {@link Env} method scheduled the work. */
    public enum Kind {
      /** {@link Env#scheduleWork}. */
      WORK,
      /** {@link Env#scheduleDaemon}. */
      DAEMON,
      /** {@link Env#schedule}. */
      DELAYED,
      /** {@link Env#scheduleAtFixedRate}. */
      PERIODIC
    }

    private final Kind kind;
    private final Duration delay;
    private final Duration period;
    private final Clock clock;
    private volatile Instant due;
    // The executor's future when the env has background threads; null when the test runs the task.
    private volatile Future<?> carrier;

    private ScheduledTask(Kind kind, Runnable work, Duration delay, Duration period, Clock clock) {
      super(work, null);
      this.kind = kind;
      this.delay = delay;
      this.period = period;
      this.clock = clock;
      this.due = clock.instant().plus(delay.isNegative() ? Duration.ZERO : delay);
    }

    /** Which method scheduled it. */
    public Kind kind() {
      return kind;
    }

    /** The delay (the initial delay of periodic work); zero for work and daemons. */
    public Duration delay() {
      return delay;
    }

    /** The period of periodic work; zero for the other kinds. */
    public Duration period() {
      return period;
    }

    /**
     * Runs the work once, now, on the caller's thread, as the scheduler would. One-off work is then
     * done (and runs no more); periodic work stays scheduled and its schedule does not move.
     * Cancelled work does not run.
     */
    @Override
    public void run() {
      if (kind == Kind.PERIODIC) {
        runAndReset();
      } else {
        super.run();
      }
    }

    private void runWhenDue() {
      if (kind == Kind.PERIODIC) {
        due = due.plus(period);
      }
      run();
    }

    private void carriedBy(Future<?> executorFuture) {
      carrier = executorFuture;
      if (isCancelled()) {
        executorFuture.cancel(false);
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      Future<?> c = carrier;
      if (c != null) {
        c.cancel(false);
      }
      return cancelled;
    }

    /** The time until the next run: by the env's clock, or by real time on background threads. */
    @Override
    public long getDelay(TimeUnit unit) {
      Future<?> c = carrier;
      if (c instanceof ScheduledFuture<?> s) {
        return s.getDelay(unit);
      }
      if (c != null || kind == Kind.DAEMON) {
        return 0;
      }
      return unit.convert(Duration.between(clock.instant(), due));
    }

    @Override
    public int compareTo(Delayed other) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), other.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public String toString() {
      return kind + (kind == Kind.PERIODIC ? " every " + period + " after " + delay
          : kind == Kind.DELAYED ? " after " + delay : "") + (isCancelled() ? " (cancelled)" : isDone() ? " (done)" : "");
    }
  }

  /**
   * Describes a {@link TestEnv}.
   *
   * <pre>{@code
   * TestEnv env = TestEnv.builder()
   *     .startingAt(Instant.parse("2017-09-01T12:00:00Z"))
   *     .loggerName("io.istio4j.adapter.stdio.test")
   *     .backgroundThreads()
   *     .build();
   * }</pre>
   */
  public static final class Builder {
    private Instant start = DEFAULT_START;
    private String loggerName = DEFAULT_LOGGER_NAME;
    private boolean backgroundThreads;
    private final List<Path> outputDirs = new ArrayList<>();

    private Builder() {}

    /**
     * Lets the handler write files in {@code directory} (an existing one), as {@code mixs server
     * --allowedOutputDir DIR} does. Repeatable.
     */
    public Builder allowOutputDir(Path directory) {
      outputDirs.add(requireNonNull(directory, "directory"));
      return this;
    }

    /** Where the clock starts. */
    public Builder startingAt(Instant instant) {
      start = requireNonNull(instant, "instant");
      return this;
    }

    /** The name of the logger; lines also go to the SLF4J logger of that name. */
    public Builder loggerName(String name) {
      loggerName = requireNonNull(name, "name");
      return this;
    }

    /**
     * Runs scheduled work on threads of the env's own, as Mixer does: work and timed work on one
     * scheduler thread (delays in real time, not by the env's clock) and each daemon on a thread
     * of its own. Close the env to stop them.
     */
    public Builder backgroundThreads() {
      backgroundThreads = true;
      return this;
    }

    /** The env. */
    public TestEnv build() {
      return new TestEnv(this);
    }
  }
}
