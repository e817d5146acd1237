package io.istio4j.adapter;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;

/**
 * What Mixer lends a handler: a logger, background execution, a clock and metrics. Adapters start
 * no threads of their own; work scheduled here is cancelled when the handler is closed.
 *
 * <pre>{@code
 * public Handler build(Env env) {
 *   ListHandler handler = new ListHandler(params, env.clock());
 *   env.scheduleAtFixedRate(handler::refresh, Duration.ZERO, Duration.ofMinutes(1));
 *   env.logger().info("list {} loaded", params.getProviderUrl());
 *   return handler;
 * }
 * }</pre>
 */
public interface Env {

  /** A logger named after the adapter and the handler. */
  Logger logger();

  /** The clock to read time from, so tests can control it. */
  Clock clock();

  /** Runs {@code work} once in the background, soon. */
  Future<?> scheduleWork(Runnable work);

  /**
   * Runs a long-lived loop (for example one draining a queue) on a thread of its own for the
   * handler's lifetime; it should return when interrupted.
   */
  Future<?> scheduleDaemon(Runnable daemon);

  /** Runs {@code work} once after {@code delay}. */
  ScheduledFuture<?> schedule(Runnable work, Duration delay);

  /** Runs {@code work} after {@code initialDelay} and then every {@code period}. */
  ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period);

  /** Where the adapter publishes its own metrics; served on Mixer's {@code /metrics}. */
  AdapterMetrics metrics();

  /**
   * Where the handler may write files: the directories the operator allowed with {@code mixs
   * server --allowedOutputDir}. A handler that writes a file resolves its configured path here
   * and refuses to build when that fails. None by default.
   */
  default FileOutputPolicy fileOutputPolicy() {
    return FileOutputPolicy.none();
  }

  /**
   * Tells the operator the handler is unhealthy for a reason of its own, one that is not a
   * backend outage but a problem to fix (wrong credentials, a quota the backend refuses): shown
   * as the handler's {@code handlerError} on Mixer's config status page until {@link
   * #clearError()}. Calling it again replaces the message; it is cheap to call on every failure.
   *
   * <pre>{@code
   * catch (JedisAccessControlException e) {
   *   env.reportError("Redis refused the credentials: " + e.getMessage());
   * }
   * }</pre>
   */
  default void reportError(String message) {}

  /** Withdraws what {@link #reportError(String)} reported, once the handler works again. */
  default void clearError() {}

  /**
   * The span of the handler call running on this thread: a child of Mixer's server span for the
   * request, named {@code <template>:<handler>(<adapter>)}. Call it on the thread Mixer called the
   * handler on (inside {@code handleCheck}, {@code handleReport}, {@code handleQuota}, or before an
   * asynchronous handler returns its stage) and keep the result for work that finishes later. It is
   * {@link Span#NOOP} when Mixer runs without {@code --zipkinURL}, when the request is not sampled,
   * and outside a handler call.
   *
   * <pre>{@code
   * Span backend = env.currentSpan().child("redis EVALSHA");
   * try {
   *   return call();
   * } finally {
   *   backend.finish();
   * }
   * }</pre>
   */
  default Span currentSpan() {
    return Span.NOOP;
  }

  /**
   * Hands a finished span recorded elsewhere to Mixer's trace reporter (the one {@code mixs server
   * --zipkinURL} configures), asynchronously: it never blocks, and a full queue drops the span (counted
   * on {@code /metrics}). Returns false, doing nothing, when Mixer has no trace reporter.
   *
   * <pre>{@code
   * if (!env.reportSpan(span)) {
   *   env.reportError("mixs runs without --zipkinURL: spans are dropped");
   * }
   * }</pre>
   */
  default boolean reportSpan(ReportedSpan span) {
    return false;
  }

  /** True when Mixer has a trace reporter, that is {@link #reportSpan} can deliver spans. */
  default boolean tracingEnabled() {
    return false;
  }
}
