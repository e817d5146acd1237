package io.istio4j.mixerclient;

import io.grpc.Status;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.v1.ReportRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Report batching (spec §7.3): records wait in a bounded queue; one sender thread takes up to
 * {@code maxEntries} of them, or what arrived within {@code maxDelay} of the first, encodes them as
 * one delta-encoded {@code ReportRequest} sharing one dictionary ({@code default_words}) and sends it.
 * A record that drops an attribute its predecessor had cannot be a delta, so it starts a new request.
 *
 * <p>Backpressure: one Report is in flight at a time. When Mixer is slow the queue fills, and a
 * record offered to a full queue is dropped and counted ({@link ClientStats#reportsDropped()}):
 * telemetry never blocks or fails the caller's request, and memory stays bounded by the queue's
 * capacity. {@link #close} stops taking records, sends everything queued and waits up to its
 * timeout.
 */
final class ReportBatcher {

  private static final Logger log = LoggerFactory.getLogger(ReportBatcher.class);

  private final MixerClient.Calls calls;
  private final int maxEntries;
  private final long maxDelayNanos;
  private final ArrayBlockingQueue<Attributes> queue;
  private final Thread sender;
  private final LongAdder queued = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder dropped = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private volatile boolean closing;

  ReportBatcher(MixerClient.Calls calls, int maxEntries, long maxDelayNanos, int capacity) {
    this.calls = calls;
    this.maxEntries = maxEntries;
    this.maxDelayNanos = maxDelayNanos;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.sender = new Thread(this::run, "mixer-client-report");
    sender.setDaemon(true);
    sender.start();
  }

  /** Queues a record; false (and counted as dropped) when the queue is full or the batcher closed. */
  boolean add(Attributes record) {
    if (closing || !queue.offer(record)) {
      dropped.increment();
      return false;
    }
    queued.increment();
    return true;
  }

  private void run() {
    List<Attributes> batch = new ArrayList<>(Math.min(maxEntries, 4096));
    while (true) {
      try {
        Attributes first = queue.poll(closing ? 0 : 100, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closing) {
            return;
          }
          continue;
        }
        batch.add(first);
        long flushAt = System.nanoTime() + maxDelayNanos;
        while (batch.size() < maxEntries) {
          if (queue.drainTo(batch, maxEntries - batch.size()) > 0) {
            continue;
          }
          long wait = closing ? 0 : flushAt - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          Attributes next = queue.poll(Math.min(wait, 50_000_000L), TimeUnit.NANOSECONDS);
          if (next != null) {
            batch.add(next);
          }
        }
        send(batch);
        batch.clear();
      } catch (InterruptedException e) {
        // close() interrupts only after its timeout: what is still queued is dropped.
        dropped.add(batch.size() + queue.size());
        queue.clear();
        return;
      } catch (RuntimeException e) {
        log.warn("mixer-client: dropping {} report records after an unexpected error", batch.size(), e);
        dropped.add(batch.size());
        batch.clear();
      }
    }
  }

  private void send(List<Attributes> records) throws InterruptedException {
    int gwc = calls.globalWordCount();
    ReportBatchEncoder encoder = new ReportBatchEncoder(gwc);
    int inRequest = 0;
    for (Attributes r : records) {
      if (!encoder.add(r.asMap())) {
        sendOne(encoder.build(), inRequest);
        encoder = new ReportBatchEncoder(gwc);
        encoder.add(r.asMap());
        inRequest = 0;
      }
      inRequest++;
    }
    sendOne(encoder.build(), inRequest);
  }

  private void sendOne(ReportRequest request, int records) throws InterruptedException {
    Status failure = calls.report(request);
    if (failure == null) {
      sent.add(records);
      batches.increment();
    } else {
      dropped.add(records);
      log.warn("mixer-client: dropped a Report of {} records: {}", records, failure);
    }
  }

  /** Stops taking records and sends what is queued, waiting up to {@code timeoutNanos}. */
  void close(long timeoutNanos) {
    closing = true;
    try {
      sender.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
      if (sender.isAlive()) {
        sender.interrupt();
        sender.join(1000);
      }
    } catch (InterruptedException e) {
      sender.interrupt();
      Thread.currentThread().interrupt();
    }
  }

  long queued() {
    return queued.sum();
  }

  long sent() {
    return sent.sum();
  }

  long dropped() {
    return dropped.sum();
  }

  long batches() {
    return batches.sum();
  }

  int pending() {
    return queue.size();
  }
}
