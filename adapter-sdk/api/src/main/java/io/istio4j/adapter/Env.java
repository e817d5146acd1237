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
}
