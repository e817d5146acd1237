package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lock-free hand-off between request threads and the Zipkin reporter. */
class DeferredSpanHandlerTest {

  private static final TraceContext CONTEXT = TraceContext.newBuilder().traceId(1).spanId(2).sampled(true).build();

  /** Records what reaches the reporter; blocks until released when {@code gate} is set. */
  private static final class Recording extends SpanHandler {
    final List<String> names = new ArrayList<>();
    final List<Cause> causes = new ArrayList<>();
    CountDownLatch gate = new CountDownLatch(0);

    @Override
    public synchronized boolean end(TraceContext context, MutableSpan span, Cause cause) {
      try {
        gate.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      names.add(span.name());
      causes.add(cause);
      return true;
    }
  }

  private static MutableSpan span(String name) {
    MutableSpan s = new MutableSpan(CONTEXT, null);
    s.name(name);
    return s;
  }

  @Test
  void spansReachTheReporterInOrderAndCloseSendsTheRest() {
    Recording reporter = new Recording();
    AtomicInteger dropped = new AtomicInteger();
    DeferredSpanHandler h = new DeferredSpanHandler(reporter, 100, dropped::addAndGet);
    for (int i = 0; i < 50; i++) {
      assertThat(h.end(CONTEXT, span("s" + i), SpanHandler.Cause.FINISHED)).isTrue();
    }
    assertThat(h.end(CONTEXT, span("abandoned"), SpanHandler.Cause.ABANDONED)).isTrue();
    h.close();
    synchronized (reporter) {
      assertThat(reporter.names).hasSize(50).startsWith("s0", "s1").endsWith("s49");
      assertThat(reporter.causes).containsOnly(SpanHandler.Cause.FINISHED);
    }
    assertThat(dropped).hasValue(0);
    // Closed: nothing more is queued, and what is refused is counted.
    assertThat(h.end(CONTEXT, span("late"), SpanHandler.Cause.FINISHED)).isFalse();
    assertThat(dropped).hasValue(1);
  }

  @Test
  void aStalledReporterFillsTheBoundAndFurtherSpansAreDroppedAndCounted() {
    Recording reporter = new Recording();
    reporter.gate = new CountDownLatch(1); // the reporter takes nothing until released
    AtomicInteger dropped = new AtomicInteger();
    DeferredSpanHandler h = new DeferredSpanHandler(reporter, 10, dropped::addAndGet);
    int accepted = 0;
    for (int i = 0; i < 1000; i++) {
      if (h.end(CONTEXT, span("s" + i), SpanHandler.Cause.FINISHED)) {
        accepted++;
      }
    }
    // At most the bound waits, plus the one the hand-off thread may be holding.
    assertThat(accepted).isBetween(10, 11);
    assertThat(dropped).hasValue(1000 - accepted);
    reporter.gate.countDown();
    h.close();
    synchronized (reporter) {
      assertThat(reporter.names).hasSize(accepted);
    }
  }
}
