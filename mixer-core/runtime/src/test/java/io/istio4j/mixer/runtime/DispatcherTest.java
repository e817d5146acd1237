package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckRequest.QuotaParams;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.ReportRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How handlers are called: in parallel, under one deadline, cancellable, inline when in-memory. */
class DispatcherTest {

  private static final Templates TEMPLATES = Templates.load(DispatcherTest.class.getClassLoader());
  private static final Map<String, String> REQUEST = Map.of("destination.service", "a.ns.svc");
  /** Instances of checknothing, quota and metric (no handlers or rules); DispatcherTracingTest adds to it. */
  static final String NOTHING = """
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: checknothing
      metadata: {name: nothing, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec: {dimensions: {}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: metric
      metadata: {name: requests, namespace: istio-system}
      spec: {value: "1", dimensions: {}, monitored_resource_type: '"UNSPECIFIED"'}
      """;

  private MemoryStore store;
  private MixerRuntime runtime;

  @BeforeEach
  void reset() {
    TestAdapters.reset();
  }

  @AfterEach
  void stop() {
    if (runtime != null) {
      runtime.close();
    }
  }

  private void start(Duration handlerTimeout, String yaml) throws Exception {
    store = new MemoryStore("istio-system");
    store.setYaml(MixerRuntimeTest.MANIFEST + NOTHING + "---\n" + yaml);
    runtime = new MixerRuntime(TEMPLATES, TestAdapters.adapters(TEMPLATES),
        new RuntimeOptions("istio-system", "destination.service", handlerTimeout, RuntimeOptions.FailurePolicy.CLOSED,
            8), new PrometheusRegistry(), Clock.systemUTC());
    runtime.start(store);
    assertThat(runtime.snapshot().statuses()).noneMatch(s -> s.state() == ObjectStatus.State.REJECTED);
  }

  private static String handler(String kind, String name, String spec) {
    return "apiVersion: config.istio.io/v1alpha2\nkind: " + kind + "\nmetadata: {name: " + name
        + ", namespace: istio-system}\nspec: " + spec + "\n---\n";
  }

  private static String rule(String... actions) {
    StringBuilder b = new StringBuilder("apiVersion: config.istio.io/v1alpha2\nkind: rule\n"
        + "metadata: {name: r, namespace: istio-system}\nspec:\n  actions:\n");
    for (String a : actions) {
      b.append("  - ").append(a).append('\n');
    }
    return b.toString();
  }

  private CompletableFuture<CheckResponse> check(CallContext context, Map<String, Long> quotas) {
    return runtime.check(MixerRuntimeTest.checkRequest(REQUEST, quotas), context).toCompletableFuture();
  }

  /** A call context the test cancels, with an optional deadline and a value it carries to workers. */
  private static final class TestCall implements CallContext {
    final long deadline;
    final List<Runnable> listeners = new ArrayList<>();
    volatile boolean cancelled;

    TestCall(long deadline) {
      this.deadline = deadline;
    }

    @Override
    public long deadlineNanos() {
      return deadline;
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public synchronized void onCancel(Runnable listener) {
      if (cancelled) {
        listener.run();
      } else {
        listeners.add(listener);
      }
    }

    void cancel() {
      List<Runnable> run;
      synchronized (this) {
        cancelled = true;
        run = new ArrayList<>(listeners);
      }
      run.forEach(Runnable::run);
    }

    @Override
    public Runnable wrap(Runnable work) {
      return () -> {
        TestAdapters.CALLER.set("the caller");
        try {
          work.run();
        } finally {
          TestAdapters.CALLER.remove();
        }
      };
    }
  }

  @Test
  void inMemoryHandlersAnswerOnTheCallingThreadBeforeCheckReturns() throws Exception {
    start(Duration.ofSeconds(1), handler("testcheck", "allow", "{}")
        + rule("{handler: allow.testcheck, instances: [nothing.checknothing]}"));
    CompletableFuture<CheckResponse> answer = check(CallContext.NONE, Map.of());
    assertThat(answer).isDone();
    assertThat(answer.get().getPrecondition().getStatus().getCode()).isZero();
    assertThat(TestAdapters.THREADS).containsExactly(Thread.currentThread().getName());
  }

  @Test
  void blockingHandlersOfOneCallRunInParallel() throws Exception {
    // Each handler waits until the other has started: run one after the other, neither would pass.
    start(Duration.ofSeconds(10), handler("testslow", "a", "{labels: {barrier: a}}")
        + handler("testslow", "b", "{labels: {barrier: b}}")
        + rule("{handler: a.testslow, instances: [nothing.checknothing]}",
            "{handler: b.testslow, instances: [nothing.checknothing]}"));
    CheckResponse r = check(CallContext.NONE, Map.of()).get(10, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getMessage()).isEmpty();
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(TestAdapters.THREADS).hasSize(2).allMatch(t -> t.startsWith("adapter-worker"));
  }

  @Test
  void theCallersDeadlineBoundsTheCallWhenItIsSoonerThanTheHandlerTimeout() throws Exception {
    start(Duration.ofSeconds(30), handler("testslow", "slow", "{labels: {sleepMillis: '20000'}}")
        + rule("{handler: slow.testslow, instances: [nothing.checknothing]}"));
    TestCall call = new TestCall(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200));
    CheckResponse r = check(call, Map.of()).get(10, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(13);
    assertThat(r.getPrecondition().getStatus().getMessage())
        .isEqualTo("slow.testslow.istio-system:no answer within the caller's deadline");
    assertThat(r.getPrecondition().getValidUseCount()).isZero();
    awaitInterrupts(1); // the worker was stopped, not left sleeping
  }

  @Test
  void aCancelledCallStopsItsRunningHandlerAndDispatchesNothingMore() throws Exception {
    start(Duration.ofSeconds(30), handler("testslow", "slow", "{labels: {sleepMillis: '20000'}}")
        + handler("testcheck", "q", "{validUseCount: 5}")
        + rule("{handler: slow.testslow, instances: [nothing.checknothing]}",
            "{handler: q.testcheck, instances: [requestcount.quota]}"));
    TestCall call = new TestCall(Long.MAX_VALUE);
    CompletableFuture<CheckResponse> answer = check(call, Map.of("requestcount", 1L));
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (TestAdapters.THREADS.isEmpty() && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(answer).isNotDone();
    call.cancel();
    CheckResponse r = answer.get(5, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getMessage()).isEqualTo("slow.testslow.istio-system:call cancelled");
    assertThat(r.getQuotasMap()).isEmpty();
    assertThat(TestAdapters.QUOTA_ARGS).isEmpty();
    awaitInterrupts(1);
  }

  @Test
  void aCallCancelledBeforeDispatchCallsNoBlockingHandler() throws Exception {
    start(Duration.ofSeconds(1), handler("testslow", "slow", "{}")
        + rule("{handler: slow.testslow, instances: [nothing.checknothing]}"));
    TestCall call = new TestCall(Long.MAX_VALUE);
    call.cancel();
    CheckResponse r = check(call, Map.of()).get(5, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getMessage()).isEqualTo("slow.testslow.istio-system:call cancelled");
    Thread.sleep(100);
    assertThat(TestAdapters.THREADS).isEmpty();
  }

  @Test
  void theCallersContextReachesTheWorker() throws Exception {
    start(Duration.ofSeconds(1), handler("testslow", "slow", "{}")
        + rule("{handler: slow.testslow, instances: [nothing.checknothing]}"));
    check(new TestCall(Long.MAX_VALUE), Map.of()).get(5, TimeUnit.SECONDS);
    assertThat(TestAdapters.CALLERS).containsExactly("the caller");
  }

  @Test
  @SuppressWarnings("unchecked")
  void asyncHandlersAnswerWhenTheirStagesCompleteWithoutAThreadWaiting() throws Exception {
    start(Duration.ofSeconds(10), handler("testasync", "async", "{}")
        + rule("{handler: async.testasync, instances: [nothing.checknothing, requestcount.quota]}"));
    CompletableFuture<CheckResponse> answer = check(CallContext.NONE, Map.of("requestcount", 4L));
    assertThat(answer).isNotDone();
    // The handler was called on this thread and returned at once.
    assertThat(TestAdapters.THREADS).containsExactly(Thread.currentThread().getName());
    CompletableFuture<CheckResult> checked = (CompletableFuture<CheckResult>) TestAdapters.PENDING.poll(5, TimeUnit.SECONDS);
    checked.complete(CheckResult.of(Status.OK, Duration.ofSeconds(3), 30));
    // The check allowed, so the quota is asked for next, from the thread that completed the check.
    CompletableFuture<QuotaResult> quota = (CompletableFuture<QuotaResult>) TestAdapters.PENDING.poll(5, TimeUnit.SECONDS);
    assertThat(quota).isNotNull();
    assertThat(answer).isNotDone();
    quota.complete(QuotaResult.granted(2, Duration.ofSeconds(1)));
    CheckResponse r = answer.get(5, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(r.getPrecondition().getValidUseCount()).isEqualTo(30);
    assertThat(r.getQuotasMap().get("requestcount").getGrantedAmount()).isEqualTo(2);
  }

  @Test
  void anAsyncHandlerThatNeverAnswersIsCutOffAtTheDeadlineAndItsStageCancelled() throws Exception {
    start(Duration.ofMillis(100), handler("testasync", "async", "{}")
        + rule("{handler: async.testasync, instances: [nothing.checknothing]}"));
    CheckResponse r = check(CallContext.NONE, Map.of()).get(5, TimeUnit.SECONDS);
    assertThat(r.getPrecondition().getStatus().getMessage()).isEqualTo("async.testasync.istio-system:no answer within 100 ms");
    CompletableFuture<?> stage = TestAdapters.PENDING.poll();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!stage.isCancelled() && System.nanoTime() < until) { // cancelled just after the answer
      Thread.sleep(5);
    }
    assertThat(stage.isCancelled()).isTrue();
  }

  @Test
  void aReportWithAnAsyncHandlerCompletesWhenTheHandlerHasTheBatch() throws Exception {
    start(Duration.ofSeconds(10), handler("testasync", "async", "{}")
        + rule("{handler: async.testasync, instances: [requests.metric]}"));
    ReportRequest report = ReportRequest.newBuilder()
        .addAttributes(AttributesEncoder.encode(REQUEST, 167)).setGlobalWordCount(167).build();
    CompletableFuture<Void> done = runtime.report(RequestDecoder.decodeReport(report.toByteArray()), CallContext.NONE)
        .toCompletableFuture();
    assertThat(done).isNotDone();
    TestAdapters.PENDING.poll(5, TimeUnit.SECONDS).complete(null);
    done.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aCheckWithoutADeduplicationIdAsksForNoDeduplication() throws Exception {
    start(Duration.ofSeconds(1), handler("testcheck", "q", "{validUseCount: 5}")
        + rule("{handler: q.testcheck, instances: [requestcount.quota]}"));
    CheckRequest request = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(REQUEST, 167)).setGlobalWordCount(167)
        .putQuotas("requestcount", QuotaParams.newBuilder().setAmount(1).build())
        .build();
    runtime.check(RequestDecoder.decodeCheck(request.toByteArray()));
    check(CallContext.NONE, Map.of("requestcount", 1L)).get();
    assertThat(TestAdapters.QUOTA_ARGS).extracting(a -> a.deduplicationId()).containsExactly("", "req-1requestcount");
  }

  private static void awaitInterrupts(int n) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (TestAdapters.INTERRUPTED.get() < n && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(TestAdapters.INTERRUPTED.get()).isEqualTo(n);
  }
}
