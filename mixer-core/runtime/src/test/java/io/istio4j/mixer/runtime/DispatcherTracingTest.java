package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.Span;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.ReportRequest;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The runtime's spans: one per handler call under the call's span, current for the handler, tagged. */
class DispatcherTracingTest {

  private static final Templates TEMPLATES = Templates.load(DispatcherTracingTest.class.getClassLoader());
  private static final Map<String, String> REQUEST = Map.of("destination.service", "a.ns.svc");
  private static final String CONFIG = DispatcherTest.NOTHING + """
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: testcheck
      metadata: {name: inline, namespace: istio-system}
      spec: {mode: ALLOW, validUseCount: 7, labels: {span: "1"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: testslow
      metadata: {name: blocking, namespace: istio-system}
      spec: {mode: DENY, labels: {span: "1"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: testcheck
      metadata: {name: broken, namespace: istio-system}
      spec: {labels: {throw: "boom"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: testmetric
      metadata: {name: sink, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: r, namespace: istio-system}
      spec:
        actions:
        - {handler: inline.testcheck, instances: [nothing.checknothing, requestcount.quota]}
        - {handler: blocking.testslow, instances: [nothing.checknothing]}
        - {handler: broken.testcheck, instances: [nothing.checknothing]}
        - {handler: sink.testmetric, instances: [requests.metric]}
      """;

  /** A span that keeps what it is told; children are kept in one list per trace. */
  static final class RecordingSpan implements Span {
    final String name;
    final RecordingSpan parent;
    final List<RecordingSpan> all;
    final Map<String, String> tags = new ConcurrentHashMap<>();
    volatile Throwable error;
    volatile int finished;

    RecordingSpan(String name, RecordingSpan parent, List<RecordingSpan> all) {
      this.name = name;
      this.parent = parent;
      this.all = all;
      all.add(this);
    }

    @Override
    public boolean isRecording() {
      return true;
    }

    @Override
    public Span tag(String key, String value) {
      tags.put(key, value);
      return this;
    }

    @Override
    public Span child(String childName) {
      return new RecordingSpan(childName, this, all);
    }

    @Override
    public Span error(Throwable e) {
      error = e;
      return this;
    }

    @Override
    public synchronized void finish() {
      finished++;
    }

    RecordingSpan named(String n) {
      return all.stream().filter(s -> s.name.equals(n)).findFirst()
          .orElseThrow(() -> new AssertionError("no span " + n + " in " + all.stream().map(s -> s.name).toList()));
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** A call whose span is {@code span}. */
  private static CallContext traced(Span span) {
    return new CallContext() {
      @Override
      public long deadlineNanos() {
        return Long.MAX_VALUE;
      }

      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public void onCancel(Runnable listener) {}

      @Override
      public Runnable wrap(Runnable work) {
        return work;
      }

      @Override
      public Span span() {
        return span;
      }
    };
  }

  private MixerRuntime runtime;

  @BeforeEach
  void start() throws Exception {
    TestAdapters.reset();
    MemoryStore store = new MemoryStore("istio-system");
    store.setYaml(MixerRuntimeTest.MANIFEST + CONFIG);
    runtime = new MixerRuntime(TEMPLATES, TestAdapters.adapters(TEMPLATES),
        new RuntimeOptions("istio-system", "destination.service", Duration.ofSeconds(10),
            RuntimeOptions.FailurePolicy.CLOSED, 4), new PrometheusRegistry(), Clock.systemUTC());
    runtime.start(store);
    assertThat(runtime.snapshot().statuses()).noneMatch(s -> s.state() == ObjectStatus.State.REJECTED);
  }

  @AfterEach
  void stop() {
    runtime.close();
  }

  @Test
  void eachHandlerCallHasASpanUnderTheCallsSpanThatTheHandlerSees() throws Exception {
    List<RecordingSpan> all = new CopyOnWriteArrayList<>();
    RecordingSpan server = new RecordingSpan("server", null, all);

    CheckResponse r = runtime.check(MixerRuntimeTest.checkRequest(REQUEST, Map.of()), traced(server))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(7); // the blocking one denies
    RecordingSpan inline = server.named("checknothing:inline.testcheck.istio-system(testcheck)");
    RecordingSpan blocking = server.named("checknothing:blocking.testslow.istio-system(testslow)");
    RecordingSpan broken = server.named("checknothing:broken.testcheck.istio-system(testcheck)");
    assertThat(List.of(inline, blocking, broken)).allSatisfy(s -> {
      assertThat(s.parent).isSameAs(server);
      assertThat(s.finished).isEqualTo(1);
    });
    assertThat(inline.tags).containsEntry("mixer.status", "OK");
    assertThat(blocking.tags).containsEntry("mixer.status", "PERMISSION_DENIED");
    assertThat(broken.tags).containsEntry("mixer.status", "INTERNAL");
    assertThat(broken.error).isNotNull();
    // Env.currentSpan() in the handler: its own span, on the request thread and on a worker thread.
    assertThat(TestAdapters.SPANS).containsExactlyInAnyOrder(inline, blocking);
    assertThat(all).filteredOn(s -> s.name.equals("backend")).extracting(s -> s.parent)
        .containsExactlyInAnyOrder(inline, blocking);
    assertThat(all).filteredOn(s -> s.name.equals("backend")).allSatisfy(s -> assertThat(s.finished).isEqualTo(1));
  }

  @Test
  void quotaSpansCarryTheAmountAskedAndGranted() throws Exception {
    List<RecordingSpan> all = new CopyOnWriteArrayList<>();
    RecordingSpan server = new RecordingSpan("server", null, all);
    runtime.close();
    TestAdapters.reset();
    MemoryStore store = new MemoryStore("istio-system");
    store.setYaml(MixerRuntimeTest.MANIFEST + CONFIG.replace("  - {handler: blocking.testslow, instances: [nothing.checknothing]}\n", "")
        .replace("  - {handler: broken.testcheck, instances: [nothing.checknothing]}\n", ""));
    runtime = new MixerRuntime(TEMPLATES, TestAdapters.adapters(TEMPLATES), RuntimeOptions.DEFAULTS,
        new PrometheusRegistry(), Clock.systemUTC());
    runtime.start(store);

    CheckResponse r = runtime.check(MixerRuntimeTest.checkRequest(REQUEST, Map.of("requestcount", 25L)),
        traced(server)).toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(r.getQuotasMap().get("requestcount").getGrantedAmount()).isEqualTo(7);
    RecordingSpan quota = server.named("quota:inline.testcheck.istio-system(testcheck)");
    assertThat(quota.tags).containsEntry("mixer.quota.amount", "25").containsEntry("mixer.quota.granted", "7")
        .containsEntry("mixer.status", "OK");
    assertThat(quota.finished).isEqualTo(1);
  }

  @Test
  void anUntracedCallRecordsNothingAndHandlersSeeTheNoopSpan() throws Exception {
    runtime.check(MixerRuntimeTest.checkRequest(REQUEST, Map.of()), CallContext.NONE)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(TestAdapters.SPANS).containsOnly(Span.NOOP).hasSize(2);
  }

  @Test
  void aReportHasOneSpanForItsRecordsAndOnePerHandlerBatch() throws Exception {
    List<RecordingSpan> all = new CopyOnWriteArrayList<>();
    RecordingSpan server = new RecordingSpan("server", null, all);
    ReportRequest report = ReportRequest.newBuilder()
        .addAttributes(AttributesEncoder.encode(REQUEST, 167))
        .addAttributes(AttributesEncoder.encode(REQUEST, 167))
        .addAttributes(AttributesEncoder.encode(REQUEST, 167))
        .setGlobalWordCount(167).build();

    runtime.report(RequestDecoder.decodeReport(report.toByteArray()), traced(server))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    RecordingSpan records = server.named("Report records");
    assertThat(records.tags).containsEntry("mixer.records", "3");
    assertThat(records.finished).isEqualTo(1);
    RecordingSpan batch = server.named("metric:sink.testmetric.istio-system(testmetric)");
    assertThat(batch.tags).containsEntry("mixer.instances", "3").containsEntry("mixer.status", "OK");
    assertThat(batch.parent).isSameAs(server);
  }
}
