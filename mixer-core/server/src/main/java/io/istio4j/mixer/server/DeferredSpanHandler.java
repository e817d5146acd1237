package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Hands finished spans to the Zipkin reporter from one background thread, in bursts, instead of
 * from the request threads one at a time. zipkin-reporter's queue takes a lock and signals its
 * sending thread for every span, and sizes every span as it is queued: at 100% sampling that woke
 * the sender for nearly every span (two context switches and futex calls per span on a loaded
 * machine) and put the sizing on the request's thread. Here a request only adds the span to a
 * lock-free queue; this thread wakes every {@link #PERIOD_NANOS} and passes on what is queued.
 *
 * <p>Bounded like the reporter: beyond {@code maxSpans} waiting spans new ones are dropped and
 * counted, so a stalled reporter never grows this queue.
 */
final class DeferredSpanHandler extends SpanHandler implements AutoCloseable {

  /** How often queued spans are passed on: spans reach Zipkin at most this much later. */
  static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final SpanHandler delegate;
  private final int maxSpans;
  private final IntConsumer dropped;
  private final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  private record Pending(TraceContext context, MutableSpan span, Cause cause) {}

  DeferredSpanHandler(SpanHandler delegate, int maxSpans, IntConsumer dropped) {
    this.delegate = requireNonNull(delegate, "delegate");
    this.maxSpans = maxSpans;
    this.dropped = requireNonNull(dropped, "dropped");
    this.thread = new Thread(this::run, "zipkin-spans");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public boolean end(TraceContext context, MutableSpan span, Cause cause) {
    if (cause == Cause.ABANDONED) {
      return true; // as the reporter: abandoned spans are not reported
    }
    if (closed || size.incrementAndGet() > maxSpans) {
      if (!closed) {
        size.decrementAndGet();
      }
      dropped.accept(1);
      return false;
    }
    queue.add(new Pending(context, span, cause));
    return true;
  }

  private void run() {
    while (!closed) {
      LockSupport.parkNanos(PERIOD_NANOS);
      drain();
    }
  }

  /** Passes every queued span on to the reporter. */
  void drain() {
    Pending p;
    while ((p = queue.poll()) != null) {
      size.decrementAndGet();
      delegate.end(p.context(), p.span(), p.cause());
    }
  }

  /** Stops the thread and passes on what is still queued. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    drain();
  }

  @Override
  public String toString() {
    return "DeferredSpanHandler{" + delegate + "}";
  }
}
