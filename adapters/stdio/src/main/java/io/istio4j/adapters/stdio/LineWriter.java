package io.istio4j.adapters.stdio;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;

/**
 * The loop that moves lines from the buffer to the output, on a thread of its own: it takes what
 * is queued in one batch, writes it, and flushes once the queue is empty. It owns the output and
 * closes it when it stops.
 */
final class LineWriter implements Runnable {

  /** How often an idle loop looks whether it was asked to stop. */
  private static final long POLL_MILLIS = 50;

  private final BlockingQueue<String> queue;
  private final Output output;
  private final LongConsumer onLinesLost;
  private final AtomicReference<IOException> lastError = new AtomicReference<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final AtomicBoolean started = new AtomicBoolean();
  private volatile boolean stopping;
  /** Lines written since the last successful flush, lost if that flush fails. */
  private long unflushed;

  /**
   * @param onLinesLost told how many lines could not be written (an output error)
   */
  LineWriter(BlockingQueue<String> queue, Output output, LongConsumer onLinesLost) {
    this.queue = requireNonNull(queue, "queue");
    this.output = requireNonNull(output, "output");
    this.onLinesLost = requireNonNull(onLinesLost, "onLinesLost");
  }

  @Override
  public void run() {
    if (!started.compareAndSet(false, true)) {
      return; // prevented from starting: the output was closed without it
    }
    try {
      for (;;) {
        String line = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
        if (line == null) {
          if (stopping) {
            return;
          }
          continue;
        }
        do {
          write(line);
        } while ((line = queue.poll()) != null);
        flush();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      flush();
      try {
        output.close();
      } catch (IOException e) {
        lastError.set(e);
      }
      stopped.countDown();
    }
  }

  private void write(String line) {
    try {
      output.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      unflushed++;
    } catch (RotatingFileOutput.RotationException e) {
      lastError.set(e); // the line was written; only the rotation is late
      unflushed++;
    } catch (IOException e) {
      lastError.set(e);
      onLinesLost.accept(1);
    }
  }

  private void flush() {
    try {
      output.flush();
    } catch (IOException e) {
      lastError.set(e);
      onLinesLost.accept(unflushed);
    }
    unflushed = 0;
  }

  /**
   * Asks the loop to write what is queued and stop, and waits up to {@code timeout}.
   *
   * @return true when the loop has stopped (the output is then closed)
   */
  boolean stop(Duration timeout) throws InterruptedException {
    stopping = true;
    return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Makes sure the loop will never run, if it has not begun yet.
   *
   * @return true when the loop never ran: the output is then the caller's to close
   */
  boolean preventStart() {
    return started.compareAndSet(false, true);
  }

  /** The output error seen since the last call, if any. */
  IOException takeError() {
    return lastError.getAndSet(null);
  }
}
