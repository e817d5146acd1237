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
}
