package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import io.istio4j.mixer.runtime.Snapshot.HandlerEntry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes handlers on a thread of its own, {@code handler-close}. A close may block for a while (a
 * stdio writer draining its buffer, a Redis pool saying goodbye to its connections), so it never
 * runs on the adapters' scheduler, whose threads run the adapters' timed work, nor under the
 * config lock; and a close waiting there would be dropped when that scheduler stops.
 *
 * <p>Every handler given here is closed exactly once: by the close thread once the snapshot that
 * used it drains, or by {@link #closeAll} at shutdown, whichever comes first. At shutdown each
 * handler not closed yet gets up to a timeout; one that overruns is logged and left on its thread
 * (which is interrupted), and the rest go on closing on a new thread.
 */
final class HandlerCloser {

  private static final Logger log = LoggerFactory.getLogger(HandlerCloser.class);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final Duration timeout;
  /** Handlers registered and not closed yet. */
  private final Set<Closing> open = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  // Guarded by lock: replaced at shutdown when a close overruns its timeout.
  private ExecutorService thread = newThread();

  /** @param timeout how long {@link #closeAll} waits for each handler */
  HandlerCloser(Duration timeout) {
    this.timeout = requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
  }

  private static ExecutorService newThread() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "handler-close-" + THREADS.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** One handler to close, once. */
  private final class Closing {
    final HandlerEntry entry;
    final AtomicBoolean claimed = new AtomicBoolean();
    final CompletableFuture<Void> done = new CompletableFuture<>();

    Closing(HandlerEntry entry) {
      this.entry = entry;
    }

    /** Closes the handler unless someone else has begun to. */
    void run() {
      if (!claimed.compareAndSet(false, true)) {
        return;
      }
      try {
        close(entry);
      } finally {
        open.remove(this);
        done.complete(null);
      }
    }
  }

  /**
   * Registers handlers to close once they are no longer used; until then {@link #closeAll} still
   * covers them.
   *
   * @return what hands them to the close thread; cheap, so a request thread that drains a
   *     snapshot may run it
   */
  Runnable register(Collection<HandlerEntry> handlers) {
    List<Closing> batch = add(handlers);
    if (batch.isEmpty()) {
      return () -> { };
    }
    return () -> submit(() -> batch.forEach(Closing::run));
  }

  /** Closes handlers that nothing uses (they never went live) on the close thread, soon. */
  void closeSoon(Collection<HandlerEntry> handlers) {
    register(handlers).run();
  }

  private List<Closing> add(Collection<HandlerEntry> handlers) {
    List<Closing> batch = new ArrayList<>(handlers.size());
    for (HandlerEntry h : handlers) {
      batch.add(new Closing(h));
    }
    open.addAll(batch);
    return batch;
  }

  private void submit(Runnable task) {
    try {
      executor().execute(task);
    } catch (RejectedExecutionException e) {
      // Shut down: closeAll has closed every registered handler already.
    }
  }

  private ExecutorService executor() {
    synchronized (lock) {
      return thread;
    }
  }

  /**
   * Closes {@code live} and every registered handler not closed yet, including those whose
   * snapshot still has requests and those queued for the close thread, then stops the thread.
   * Waits up to the timeout for each handler; the ones that overrun are logged.
   *
   * @return the FQNs of the handlers that did not close in time
   */
  List<String> closeAll(Collection<HandlerEntry> live) {
    add(live);
    List<String> late = new ArrayList<>();
    List<Closing> all = new ArrayList<>(open);
    // Those closing now first: a stuck one is then named as such, not the ones queued behind it.
    all.sort(Comparator.comparing(c -> !c.claimed.get()));
    for (Closing c : all) {
      try {
        if (!awaitClosed(c)) {
          late.add(c.entry.fqn());
          log.warn("handler {} did not close within {} ms; shutting down without waiting for it",
              c.entry.fqn(), timeout.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        late.add(c.entry.fqn());
        log.warn("interrupted while closing handler {}; not waiting for the others", c.entry.fqn());
        break;
      }
    }
    executor().shutdown();
    return late;
  }

  /** Closes {@code c} on the close thread unless it is closing already; false when it overran. */
  private boolean awaitClosed(Closing c) throws InterruptedException {
    for (;;) {
      ExecutorService t = executor();
      try {
        t.execute(c::run); // a no-op if c is claimed: then this waits for whoever closes it
        c.done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return true;
      } catch (TimeoutException | RejectedExecutionException e) {
        replace(t);
        if (c.claimed.get()) {
          return false; // its own close overran (or runs on a thread given up on before)
        }
        // c waited behind another handler's stuck close: give it the new thread.
      } catch (ExecutionException e) {
        throw new AssertionError("closing never completes the future exceptionally", e);
      }
    }
  }

  /** Gives up on a stuck close thread: interrupts it, and later closes run on a new one. */
  private void replace(ExecutorService stuck) {
    synchronized (lock) {
      if (thread == stuck) {
        stuck.shutdownNow();
        thread = newThread();
      }
    }
  }

  /** Closes a handler and then its env (which cancels its background work); never throws. */
  static void close(HandlerEntry h) {
    try {
      h.handler().close();
    } catch (Throwable e) { // NOPMD: one adapter's failure must not stop the others from closing
      log.warn("closing handler {} failed: {}", h.fqn(), e.toString());
    } finally {
      if (h.env() != null) {
        h.env().close();
      }
    }
  }
}
