package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * A logger for events a client can cause at will (a bad request, a missing attribute, a failing
 * handler): at most {@code maxLines} lines per {@code interval}, then silence, then one line saying
 * how many were suppressed when the next interval's first line is logged. Use one instance per
 * call site, so a flood of one kind of event does not hide another. Every argument but numbers,
 * booleans and a trailing throwable is passed through {@link LogText#escape(Object)}, so client
 * text cannot forge lines or fill the disk with one huge value.
 *
 * <pre>{@code
 * private final RateLimitedLogger unknownQuota = RateLimitedLogger.of(env.logger(), 5, Duration.ofMinutes(1), env.clock());
 * ...
 * unknownQuota.warn("no quota named {}", instance.name());
 * // at most 5 such lines a minute, then: "12 similar message(s) suppressed in the last PT1M: no quota named {}"
 * }</pre>
 *
 * <p>Thread-safe and lock-free; a suppressed call costs a clock read and two atomic increments.
 */
public final class RateLimitedLogger {

  /** Lines per interval unless told otherwise. */
  public static final int DEFAULT_MAX_LINES = 10;

  /** The interval unless told otherwise. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private final Logger logger;
  private final int maxLines;
  private final Duration interval;
  private final long intervalMillis;
  private final Clock clock;
  private final AtomicLong windowStart;
  private final AtomicInteger lines = new AtomicInteger();
  private final AtomicLong suppressed = new AtomicLong();

  private RateLimitedLogger(Logger logger, int maxLines, Duration interval, Clock clock) {
    this.logger = requireNonNull(logger, "logger");
    this.clock = requireNonNull(clock, "clock");
    this.interval = requireNonNull(interval, "interval");
    if (maxLines < 1) {
      throw new IllegalArgumentException("maxLines: " + maxLines + " (expected: >= 1)");
    }
    if (interval.toMillis() < 1) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: >= 1ms)");
    }
    this.maxLines = maxLines;
    this.intervalMillis = interval.toMillis();
    this.windowStart = new AtomicLong(clock.millis());
  }

  /** {@link #DEFAULT_MAX_LINES} lines per {@link #DEFAULT_INTERVAL} by the system clock. */
  public static RateLimitedLogger of(Logger logger) {
    return new RateLimitedLogger(logger, DEFAULT_MAX_LINES, DEFAULT_INTERVAL, Clock.systemUTC());
  }

  /** {@code maxLines} lines per {@code interval}, timed by {@code clock} (a handler passes {@link Env#clock()}). */
  public static RateLimitedLogger of(Logger logger, int maxLines, Duration interval, Clock clock) {
    return new RateLimitedLogger(logger, maxLines, interval, clock);
  }

  /** Logs at WARN unless over the limit. */
  public void warn(String format, Object... args) {
    log(Level.WARN, format, args);
  }

  /** Logs at ERROR unless over the limit. */
  public void error(String format, Object... args) {
    log(Level.ERROR, format, args);
  }

  /** Logs at INFO unless over the limit. */
  public void info(String format, Object... args) {
    log(Level.INFO, format, args);
  }

  /** Logs at DEBUG unless over the limit (or DEBUG is off). */
  public void debug(String format, Object... args) {
    log(Level.DEBUG, format, args);
  }

  /** The underlying logger. */
  public Logger logger() {
    return logger;
  }

  private void log(Level level, String format, Object[] args) {
    if (!logger.isEnabledForLevel(level)) {
      return;
    }
    long now = clock.millis();
    long start = windowStart.get();
    if (now - start >= intervalMillis && windowStart.compareAndSet(start, now)) {
      lines.set(0);
      long missed = suppressed.getAndSet(0);
      if (missed > 0) {
        emit(level, "{} similar message(s) suppressed in the last {}: {}", new Object[] {missed, interval, format});
      }
    }
    if (lines.incrementAndGet() > maxLines) {
      suppressed.incrementAndGet();
      return;
    }
    Object[] safe = args.clone();
    for (int i = 0; i < safe.length; i++) {
      Object a = safe[i];
      if (a instanceof Throwable t && i == safe.length - 1) {
        safe[i] = escaped(t, 0);
      } else if (!(a == null || a instanceof Number || a instanceof Boolean)) {
        safe[i] = LogText.escape(a);
      }
    }
    emit(level, format, safe);
  }

  private static final int MAX_MESSAGE_CHARS = 1024;
  private static final int MAX_CAUSES = 8;

  /**
   * The throwable itself when its messages (causes included) are safe to print; otherwise a copy
   * with the same stack traces whose messages are escaped: an exception's message often quotes
   * the request that caused it.
   */
  static Throwable escaped(Throwable t, int depth) {
    if (isSafe(t, 0)) {
      return t;
    }
    Throwable cause = t.getCause() == null || t.getCause() == t || depth >= MAX_CAUSES
        ? null : escaped(t.getCause(), depth + 1);
    EscapedThrowable copy = new EscapedThrowable(LogText.escape(t.toString(), MAX_MESSAGE_CHARS), cause);
    copy.setStackTrace(t.getStackTrace());
    return copy;
  }

  private static boolean isSafe(Throwable t, int depth) {
    if (t == null || depth > MAX_CAUSES) {
      return true;
    }
    String m = t.getMessage();
    return (m == null || LogText.escape(m, MAX_MESSAGE_CHARS) == m)
        && (t.getCause() == t || isSafe(t.getCause(), depth + 1));
  }

  /** Stands in for an exception whose message had to be escaped; prints as the original's {@code toString()}. */
  private static final class EscapedThrowable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    EscapedThrowable(String text, Throwable cause) {
      super(text, cause, false, true);
    }

    @Override
    public String toString() {
      return getMessage();
    }
  }

  // The classic calls, not the fluent API: they treat a trailing throwable as the cause.
  private void emit(Level level, String format, Object[] args) {
    switch (level) {
      case ERROR -> logger.error(format, args);
      case WARN -> logger.warn(format, args);
      case INFO -> logger.info(format, args);
      default -> logger.debug(format, args);
    }
  }
}
