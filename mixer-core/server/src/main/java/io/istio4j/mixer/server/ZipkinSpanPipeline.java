package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import zipkin2.reporter.BytesMessageSender;
import zipkin2.reporter.Encoding;

/**
 * Carries finished spans from request threads to Zipkin without making a request wait: a request
 * adds its span to a lock-free queue; one thread ({@code zipkin-spans}) wakes every {@link
 * #PERIOD_NANOS}, encodes what is queued straight into the message being filled (proto3, {@link
 * ZipkinProto3Encoder}) and hands full messages to a second thread ({@code zipkin-sender}), which
 * posts them with zipkin-reporter's {@link BytesMessageSender}. A partly filled message goes out
 * after {@code messageTimeout}, so spans reach Zipkin within about that long.
 *
 * <p>Everything is bounded, so a slow or dead Zipkin costs spans, never requests or memory: beyond
 * {@code maxQueuedSpans} waiting to be encoded, or {@code maxQueuedMessages} waiting to be posted,
 * new spans are dropped, and a span larger than a message is dropped too; all are counted.
 */
final class ZipkinSpanPipeline implements AutoCloseable {

  /** What the pipeline counts; Mixer puts these on {@code /metrics}. */
  interface Metrics {
    /** Spans handed to the pipeline. */
    void spans(int n);

    /** Spans that will not reach Zipkin: a queue was full, the span too large, or the message failed. */
    void spansDropped(int n);

    /** A message Zipkin took. */
    void message();

    /** A message that failed (Zipkin down, slow or refusing it). */
    void messageDropped(Throwable cause);

    /** Spans waiting: queued to be encoded, or in messages not yet posted. */
    void queued(int spans);
  }

  /** How often queued spans are encoded: the hand-off's share of a span's delay. */
  static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final BytesMessageSender sender;
  private final ZipkinProto3Encoder encoder;
  private final Metrics metrics;
  private final int maxQueuedSpans;
  private final long messageTimeoutNanos;
  private final long closeTimeoutNanos;
  private final ConcurrentLinkedQueue<RecordedSpan> spans = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queuedSpans = new AtomicInteger();
  private final BlockingQueue<Message> messages;
  private final AtomicInteger spansInMessages = new AtomicInteger();
  private final Thread encoding;
  private final Thread sending;
  private volatile boolean closed;
  /** Whether the last post failed: then closing drops what is left instead of waiting on Zipkin. */
  private volatile boolean failing;

  // Owned by the encoding thread (and by close() once that thread has stopped).
  private final byte[] buffer;
  private int position;
  private int bufferedSpans;
  private long firstBufferedNanos;

  private record Message(byte[] body, int spans) {}

  /**
   * A pipeline posting proto3 messages of at most {@code sender.messageMaxBytes()} through {@code
   * sender}; its threads start at once.
   */
  ZipkinSpanPipeline(BytesMessageSender sender, ZipkinProto3Encoder encoder, Metrics metrics, int maxQueuedSpans,
      int maxQueuedMessages, long messageTimeoutNanos, long closeTimeoutNanos) {
    if (sender.encoding() != Encoding.PROTO3) {
      throw new IllegalArgumentException("the sender must send PROTO3, not " + sender.encoding());
    }
    this.sender = sender;
    this.encoder = requireNonNull(encoder, "encoder");
    this.metrics = requireNonNull(metrics, "metrics");
    this.maxQueuedSpans = maxQueuedSpans;
    this.messageTimeoutNanos = messageTimeoutNanos;
    this.closeTimeoutNanos = closeTimeoutNanos;
    this.messages = new ArrayBlockingQueue<>(maxQueuedMessages);
    this.buffer = new byte[sender.messageMaxBytes()];
    this.encoding = new Thread(this::encodeLoop, "zipkin-spans");
    this.sending = new Thread(this::sendLoop, "zipkin-sender");
    encoding.setDaemon(true);
    sending.setDaemon(true);
    encoding.start();
    sending.start();
  }

  /**
   * Queues a finished span with the children it carries; false (and counted as dropped) when the
   * queue is full or closed.
   */
  boolean add(RecordedSpan span) {
    int n = 1 + span.childCount();
    metrics.spans(n);
    if (closed || queuedSpans.addAndGet(n) > maxQueuedSpans) {
      if (!closed) {
        queuedSpans.addAndGet(-n);
      }
      metrics.spansDropped(n);
      return false;
    }
    spans.add(span);
    return true;
  }

  private void encodeLoop() {
    while (!closed) {
      LockSupport.parkNanos(PERIOD_NANOS);
      encodeQueued();
      if (bufferedSpans > 0 && System.nanoTime() - firstBufferedNanos >= messageTimeoutNanos) {
        seal();
      }
      metrics.queued(queuedSpans.get() + bufferedSpans + spansInMessages.get());
    }
  }

  /** Encodes every queued span into messages. */
  private void encodeQueued() {
    RecordedSpan span;
    while ((span = spans.poll()) != null) {
      int children = span.childCount();
      queuedSpans.addAndGet(-1 - children);
      RecordedSpan[] c = span.children();
      for (int i = 0; i < children; i++) {
        encode(c[i]);
      }
      encode(span);
    }
  }

  private void encode(RecordedSpan span) {
    int size;
    try {
      size = encoder.sizeInMessage(span);
    } catch (RuntimeException e) {
      metrics.spansDropped(1); // a bug, not a reason to stop tracing
      return;
    }
    if (size > buffer.length) {
      metrics.spansDropped(1); // larger than any message Zipkin is sent
      return;
    }
    if (position + size > buffer.length) {
      seal();
    }
    if (bufferedSpans == 0) {
      firstBufferedNanos = System.nanoTime();
    }
    position = encoder.write(span, buffer, position);
    bufferedSpans++;
  }

  /** Hands the message being filled to the sending thread, or drops it when that one is behind. */
  private void seal() {
    if (bufferedSpans == 0) {
      return;
    }
    Message m = new Message(Arrays.copyOf(buffer, position), bufferedSpans);
    position = 0;
    bufferedSpans = 0;
    spansInMessages.addAndGet(m.spans());
    if (!messages.offer(m)) {
      spansInMessages.addAndGet(-m.spans());
      metrics.spansDropped(m.spans());
    }
  }

  private void sendLoop() {
    while (true) {
      Message m;
      try {
        m = messages.poll(PERIOD_NANOS, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        return; // closing gave up on a Zipkin that does not answer
      }
      if (m == null) {
        if (closed && !encoding.isAlive() && messages.isEmpty()) {
          return;
        }
        continue;
      }
      if (closed && failing) {
        drop(m); // a stop does not wait on a Zipkin that just failed
        continue;
      }
      send(m);
    }
  }

  private void send(Message m) {
    try {
      // For proto3 a list of spans is their concatenation: the message goes as one element.
      sender.send(List.of(m.body()));
      metrics.message();
      failing = false;
    } catch (IOException | RuntimeException e) {
      metrics.messageDropped(e);
      metrics.spansDropped(m.spans());
      failing = true;
    } finally {
      spansInMessages.addAndGet(-m.spans());
    }
  }

  private void drop(Message m) {
    spansInMessages.addAndGet(-m.spans());
    metrics.spansDropped(m.spans());
  }

  /**
   * Stops taking spans, encodes and posts what is queued, waiting at most the close timeout (not at
   * all after a failed post), and closes the sender. What cannot be sent is counted as dropped.
   */
  @Override
  public void close() {
    closed = true;
    long deadline = System.nanoTime() + closeTimeoutNanos;
    LockSupport.unpark(encoding);
    join(encoding, deadline);
    if (!encoding.isAlive()) {
      encodeQueued();
      seal();
    }
    join(sending, deadline);
    if (sending.isAlive()) {
      sending.interrupt(); // stuck posting to a Zipkin that does not answer
    }
    Message m;
    while ((m = messages.poll()) != null) {
      drop(m);
    }
    int left = queuedSpans.getAndSet(0);
    if (left > 0) {
      metrics.spansDropped(left);
    }
    metrics.queued(0);
    try {
      sender.close();
    } catch (IOException e) {
      // nothing more to send
    }
  }

  private static void join(Thread t, long deadlineNanos) {
    long wait = deadlineNanos - System.nanoTime();
    if (wait <= 0) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.timedJoin(t, wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "ZipkinSpanPipeline{" + sender + "}";
  }
}
