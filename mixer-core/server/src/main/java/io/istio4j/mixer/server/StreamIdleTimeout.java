package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closes a call whose request has not completely arrived within {@code --streamIdleTimeout} of its
 * headers, with {@code DEADLINE_EXCEEDED}. gRPC has no such bound of its own: a client that opens
 * streams and never finishes sending holds each stream (and what it buffered) for as long as the
 * connection lives. Mixer's calls are unary, so "the request has arrived" is the half-close.
 *
 * <p>Calls waiting for their request are kept in a set that one daemon thread sweeps a few times
 * per timeout; per call that costs a set insert and remove, no timer.
 */
final class StreamIdleTimeout implements ServerInterceptor, AutoCloseable {

  private static final int WAITING = 0;
  private static final int RECEIVED = 1;
  private static final int TIMED_OUT = 2;

  private final Duration timeout;
  private final long timeoutNanos;
  private final Set<Pending> pending = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService sweeper;

  StreamIdleTimeout(Duration timeout) {
    this.timeout = requireNonNull(timeout, "timeout");
    this.timeoutNanos = timeout.toNanos();
    this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "stream-idle-timeout");
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(10, Math.min(1000, timeout.toMillis() / 4));
    sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
  }

  private static final class Pending {
    final ServerCall<?, ?> call;
    final long deadline;
    final AtomicInteger state = new AtomicInteger(WAITING);

    Pending(ServerCall<?, ?> call, long deadline) {
      this.call = call;
      this.deadline = deadline;
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Pending p = new Pending(call, System.nanoTime() + timeoutNanos);
    ServerCall.Listener<Q> listener = next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        if (p.state.get() != TIMED_OUT) { // the timeout closed it already
          pending.remove(p);
          super.close(status, trailers);
        }
      }
    }, headers);
    pending.add(p); // only now: the handler's own start (call.request) is done before a sweep may close
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onHalfClose() {
        if (p.state.compareAndSet(WAITING, RECEIVED)) {
          pending.remove(p);
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        pending.remove(p);
        super.onCancel();
      }

      @Override
      public void onComplete() {
        pending.remove(p);
        super.onComplete();
      }
    };
  }

  private void sweep() {
    long now = System.nanoTime();
    for (Pending p : pending) {
      if (now - p.deadline >= 0 && p.state.compareAndSet(WAITING, TIMED_OUT)) {
        pending.remove(p);
        try {
          p.call.close(Status.DEADLINE_EXCEEDED.withDescription(
              "the request did not arrive within " + timeout.toMillis() + " ms (--streamIdleTimeout)"), new Metadata());
        } catch (RuntimeException e) {
          // The transport closed it meanwhile: nothing left to free.
        }
      }
    }
  }

  /** Calls still waiting for their request. */
  int waiting() {
    return pending.size();
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
  }
}
