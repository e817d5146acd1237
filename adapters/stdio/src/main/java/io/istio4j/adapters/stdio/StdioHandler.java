package io.istio4j.adapters.stdio;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.template.logentry.LogEntryHandler;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricInstance;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * Formats each instance as a line on the caller's thread and offers it to a bounded buffer without
 * waiting; a {@link LineWriter} on a daemon thread writes the buffer out. When the buffer is full
 * the line is dropped and counted, so a slow disk or a blocked stdout pipe never slows a Report.
 */
final class StdioHandler implements LogEntryHandler, MetricHandler {

  /** How long {@link #close()} lets the writer finish what is buffered. */
  static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(2);

  /** Drops and write errors are logged at most this often. */
  static final Duration WARNING_PERIOD = Duration.ofSeconds(10);

  static final String DROPPED_METRIC = "stdio_dropped_lines";

  private final LineFormat format;
  private final Map<String, String> severityLevels;
  private final String metricLevel;
  private final BlockingQueue<String> queue;
  private final LineWriter writer;
  private final Output output;
  private final String outputName;
  private final Clock clock;
  private final Logger logger;
  private final Counter.Child droppedBufferFull;
  private final Counter.Child droppedWriteError;
  private final Counter.Child droppedAtClose;
  private final AtomicLong droppedSinceWarning = new AtomicLong();
  private final AtomicLong failedSinceWarning = new AtomicLong();
  private Future<?> writerTask;
  private Future<?> warningTask;
  private volatile boolean closed;

  private StdioHandler(LineFormat format, Map<String, String> severityLevels, String metricLevel, int bufferSize,
      Output output, Env env) {
    this.format = requireNonNull(format, "format");
    this.severityLevels = Map.copyOf(severityLevels);
    this.metricLevel = requireNonNull(metricLevel, "metricLevel");
    this.queue = new ArrayBlockingQueue<>(bufferSize);
    this.output = requireNonNull(output, "output");
    this.outputName = output.name();
    this.clock = env.clock();
    this.logger = env.logger();
    Counter dropped = env.metrics().counter(DROPPED_METRIC,
        "Lines the stdio adapter did not write: reason buffer_full (the output was slower than the traffic), "
            + "write_error (the output failed) or close_timeout (still buffered when the handler closed)",
        "output", "reason");
    this.droppedBufferFull = dropped.labelValues(outputName, "buffer_full");
    this.droppedWriteError = dropped.labelValues(outputName, "write_error");
    this.droppedAtClose = dropped.labelValues(outputName, "close_timeout");
    this.writer = new LineWriter(queue, output, lost -> {
      droppedWriteError.inc(lost);
      failedSinceWarning.addAndGet(lost);
    });
  }

  /**
   * Makes a handler and starts its writer on {@code env}.
   *
   * @param severityLevels level name by log entry severity; other severities are {@code info}
   * @param metricLevel the level name of metric lines
   * @param bufferSize lines buffered for the writer; more are dropped
   * @param output where lines go; the handler closes it
   */
  static StdioHandler start(LineFormat format, Map<String, String> severityLevels, String metricLevel,
      int bufferSize, Output output, Env env) {
    StdioHandler handler = new StdioHandler(format, severityLevels, metricLevel, bufferSize, output, env);
    handler.writerTask = env.scheduleDaemon(handler.writer);
    handler.warningTask = env.scheduleAtFixedRate(handler::warnAboutLostLines, WARNING_PERIOD, WARNING_PERIOD);
    return handler;
  }

  @Override
  public void handleLogEntry(List<LogEntryInstance> instances) {
    for (LogEntryInstance instance : instances) {
      if (accepting()) {
        String level = severityLevels.getOrDefault(instance.severity(), "info");
        offer(format.logEntry(level, instance.timestamp(), instance.name(), instance.variables()));
      }
    }
  }

  @Override
  public void handleMetric(List<MetricInstance> instances) {
    for (MetricInstance instance : instances) {
      if (accepting()) {
        offer(format.metric(metricLevel, Instant.now(clock), instance.name(), instance.value(),
            instance.dimensions()));
      }
    }
  }

  /** False (and the line counted as dropped) when the buffer is full: formatting it would be wasted. */
  private boolean accepting() {
    if (closed) {
      return false;
    }
    if (queue.remainingCapacity() == 0) {
      dropped();
      return false;
    }
    return true;
  }

  private void offer(String line) {
    if (!queue.offer(line)) {
      dropped();
    }
  }

  private void dropped() {
    droppedBufferFull.inc();
    droppedSinceWarning.incrementAndGet();
  }

  /** Logs the lines lost since the last warning; runs every {@link #WARNING_PERIOD} and at close. */
  void warnAboutLostLines() {
    long dropped = droppedSinceWarning.getAndSet(0);
    if (dropped > 0) {
      logger.warn("{} line(s) dropped: the buffer of {} lines for {} was full (output slower than traffic)",
          dropped, queue.size() + queue.remainingCapacity(), outputName);
    }
    long failed = failedSinceWarning.getAndSet(0);
    IOException error = writer.takeError();
    if (failed > 0) {
      logger.warn("{} line(s) could not be written to {}: {}", failed, outputName, String.valueOf(error));
    } else if (error != null) {
      logger.warn("writing to {}: {}", outputName, error.getMessage());
    }
  }

  /** Lines waiting for the writer. */
  int buffered() {
    return queue.size();
  }

  /**
   * Stops taking lines, lets the writer write what is buffered for up to {@link #DRAIN_TIMEOUT},
   * and closes the output.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    warningTask.cancel(false);
    boolean stopped;
    try {
      stopped = writer.stop(DRAIN_TIMEOUT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = false;
    }
    if (!stopped) {
      // The output is stuck. What is still buffered is given up; the writer is interrupted and
      // closes the output once its current write returns.
      List<String> left = new ArrayList<>();
      queue.drainTo(left);
      writerTask.cancel(true);
      if (writer.preventStart()) { // it never ran, so nobody else will close the output
        try {
          output.close();
        } catch (IOException e) {
          logger.warn("closing {}: {}", outputName, e.toString());
        }
      }
      droppedAtClose.inc(left.size());
      logger.warn("{} line(s) for {} not written within {} ms of closing the handler",
          left.size(), outputName, DRAIN_TIMEOUT.toMillis());
    }
    warnAboutLostLines();
  }
}
