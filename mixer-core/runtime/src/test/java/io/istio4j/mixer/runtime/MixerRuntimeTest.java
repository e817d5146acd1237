package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.template.metric.MetricInstance;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class MixerRuntimeTest {

  static final String MANIFEST = """
      apiVersion: config.istio.io/v1alpha2
      kind: attributemanifest
      metadata: {name: test, namespace: istio-system}
      spec:
        attributes:
          destination.service: {valueType: STRING}
          source.service: {valueType: STRING}
          source.user: {valueType: STRING}
          request.headers: {valueType: STRING_MAP}
          context.protocol: {valueType: STRING}
          request.size: {valueType: INT64}
          response.code: {valueType: INT64}
      """;

  private static final Templates TEMPLATES = Templates.load(MixerRuntimeTest.class.getClassLoader());
  private MemoryStore store;
  private MixerRuntime runtime;
  private PrometheusRegistry registry;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

  @BeforeEach
  void start() throws Exception {
    TestAdapters.reset();
    logs.start();
    ((Logger) LoggerFactory.getLogger(MixerRuntime.class)).addAppender(logs);
    ((Logger) LoggerFactory.getLogger(Dispatcher.class)).addAppender(logs);
    store = new MemoryStore("istio-system");
    store.setYaml(MANIFEST);
    runtime = runtime(RuntimeOptions.DEFAULTS);
  }

  private MixerRuntime runtime(RuntimeOptions options) throws Exception {
    registry = new PrometheusRegistry();
    MixerRuntime r = new MixerRuntime(TEMPLATES, TestAdapters.adapters(TEMPLATES), options, registry,
        Clock.systemUTC());
    r.start(store);
    return r;
  }

  @AfterEach
  void stop() {
    runtime.close();
    ((Logger) LoggerFactory.getLogger(MixerRuntime.class)).detachAppender(logs);
    ((Logger) LoggerFactory.getLogger(Dispatcher.class)).detachAppender(logs);
  }

  private List<ILoggingEvent> warnings() {
    return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
  }

  private double counter(String name, String... labels) {
    double sum = 0;
    for (MetricSnapshot m : registry.scrape()) {
      if (m.getMetadata().getName().equals(name) && m instanceof CounterSnapshot c) {
        for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
          boolean all = true;
          for (int i = 0; i < labels.length; i += 2) {
            all &= labels[i + 1].equals(p.getLabels().get(labels[i]));
          }
          sum += all ? p.getValue() : 0;
        }
      }
    }
    return sum;
  }

  private static final String SIZES = """
      apiVersion: config.istio.io/v1alpha2
      kind: testmetric
      metadata: {name: sink, namespace: istio-system}
      spec: {labels: {id: sink}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: metric
      metadata: {name: size, namespace: istio-system}
      spec: {value: request.size, dimensions: {source: source.service}, monitored_resource_type: '"X"'}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: all, namespace: istio-system}
      spec:
        actions: [{handler: sink.testmetric, instances: [size.metric]}]
      """;

  @Test
  void aReportInstanceThatCannotBeBuiltIsCountedAndLoggedNotSilentlyDropped() {
    config(SIZES);
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    batch.add(Map.of("destination.service", "a.ns.svc", "source.service", "x")); // no request.size
    runtime.report(RequestDecoder.decodeReport(batch.build().toByteArray()));
    assertThat(TestAdapters.BATCHES.get("sink")).isNull();
    assertThat(counter("mixer_runtime_instance_errors", "template", "metric", "instance", "size.metric.istio-system"))
        .isEqualTo(1);
    assertThat(warnings()).singleElement().satisfies(e -> {
      assertThat(e.getLevel()).isEqualTo(Level.WARN);
      assertThat(e.getFormattedMessage()).isEqualTo("Report: instance size.metric.istio-system not built: "
          + "failed to evaluate field 'value' for instance 'size.metric.istio-system': lookup failed: 'request.size'");
      assertThat(e.getThrowableProxy()).isNull(); // the client's mistake: no stack trace
    });
  }

  @Test
  void aFloodOfUnbuildableInstancesWritesABoundedNumberOfLines() {
    config(SIZES);
    for (int i = 0; i < 1000; i++) {
      ReportBatchEncoder batch = new ReportBatchEncoder(167);
      batch.add(Map.of("destination.service", "a.ns.svc", "source.service", "x"));
      runtime.report(RequestDecoder.decodeReport(batch.build().toByteArray()));
    }
    assertThat(counter("mixer_runtime_instance_errors")).isEqualTo(1000);
    assertThat(warnings()).hasSizeLessThanOrEqualTo(11);
  }

  @Test
  void aValueWithALineBreakCannotForgeALogLine() {
    config(SIZES.replace("value: request.size", "value: timestamp(source.service)"));
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    batch.add(Map.of("destination.service", "a.ns.svc", "source.service", "x\n2017 ERROR forged line"));
    runtime.report(RequestDecoder.decodeReport(batch.build().toByteArray()));
    assertThat(warnings()).singleElement().satisfies(e -> assertThat(e.getFormattedMessage())
        .doesNotContain("\n")
        .contains("could not convert 'x\\n2017 ERROR forged line' to TIMESTAMP"));
  }

  @Test
  void aHandlerThrowingANullPointerExceptionTellsTheClientNoJavaClassNames() {
    config(DENY_ALL + "---\n" + THROWING.replace("{throw: \"connection refused\"}", "{throw: \"\"}"));
    CheckResponse r = check(Map.of("destination.service", "a.ns.svc"));
    assertThat(r.getPrecondition().getStatus().getMessage())
        .isEqualTo("flaky.testcheck.istio-system:internal error (see server log)")
        .doesNotContain("Exception", "java.");
  }

  private void config(String yaml) {
    store.setYaml(MANIFEST + "---\n" + yaml);
  }

  static DecodedCheckRequest checkRequest(Map<String, ?> attributes, Map<String, Long> quotas) {
    CheckRequest.Builder b = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(attributes, 167))
        .setGlobalWordCount(167)
        .setDeduplicationId("req-1");
    quotas.forEach((k, v) -> b.putQuotas(k, CheckRequest.QuotaParams.newBuilder().setAmount(v).build()));
    return RequestDecoder.decodeCheck(b.build().toByteArray());
  }

  private CheckResponse check(Map<String, ?> attributes) {
    return runtime.check(checkRequest(attributes, Map.of()));
  }

  private static List<String> referenced(ReferencedAttributes refs) {
    List<String> out = new ArrayList<>();
    for (ReferencedAttributes.AttributeMatch m : refs.getAttributeMatchesList()) {
      String name = word(refs, m.getName());
      String key = m.getMapKey() == 0 ? "" : "[" + word(refs, m.getMapKey()) + "]";
      out.add(name + key + " " + m.getCondition());
    }
    return out;
  }

  private static String word(ReferencedAttributes refs, int index) {
    return index >= 0 ? GlobalDictionary.word(index) : refs.getWords(-index - 1);
  }

  static final String DENY_ALL = """
      apiVersion: config.istio.io/v1alpha2
      kind: testcheck
      metadata: {name: deny, namespace: istio-system}
      spec: {mode: DENY, validDuration: 5s, validUseCount: 7}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: checknothing
      metadata: {name: nothing, namespace: istio-system}
      spec: {}
      """;

  @Test
  void withoutRulesCheckIsOkForTenSecondsOrTwoHundredUses() {
    CheckResponse r = check(Map.of("destination.service", "ratings.default.svc.cluster.local"));
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(r.getPrecondition().getValidDuration().getSeconds()).isEqualTo(10);
    assertThat(r.getPrecondition().getValidUseCount()).isEqualTo(200);
    assertThat(runtime.ready()).isTrue();
    assertThat(runtime.snapshot().version()).isEqualTo(1);
  }

  @Test
  void aDenierRuleDeniesWithHandlerMessageAndItsDurations() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: denyratings, namespace: istio-system}
        spec:
          match: destination.service == "ratings.default.svc.cluster.local"
          actions:
          - handler: deny.testcheck
            instances: [nothing.checknothing]
        """);
    CheckResponse denied = check(Map.of("destination.service", "ratings.default.svc.cluster.local"));
    assertThat(denied.getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(denied.getPrecondition().getStatus().getMessage())
        .isEqualTo("deny.testcheck.istio-system:denied by test nothing.checknothing.istio-system");
    assertThat(denied.getPrecondition().getValidDuration().getSeconds()).isEqualTo(5);
    assertThat(denied.getPrecondition().getValidUseCount()).isEqualTo(7);

    CheckResponse other = check(Map.of("destination.service", "reviews.default.svc.cluster.local"));
    assertThat(other.getPrecondition().getStatus().getCode()).isZero();
    assertThat(other.getPrecondition().getValidUseCount()).isEqualTo(200);
  }

  @Test
  void aMissingIdentityAttributeIsInternalWithUpstreamsText() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: r, namespace: istio-system}
        spec:
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """);
    CheckResponse r = check(Map.of("source.service", "a", "request.size", 3L));
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(13);
    assertThat(r.getPrecondition().getStatus().getMessage())
        .isEqualTo("destination.service identity not found in attributes[request.size source.service]");
    assertThat(r.getPrecondition().getValidDuration().getSeconds()).isEqualTo(10);
  }

  @Test
  void referencedAttributesNameOnlyTheHeaderKeyARuleReads() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: jason, namespace: istio-system}
        spec:
          match: request.headers["x-user"] == "jason"
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """);
    CheckResponse r = check(Map.of("destination.service", "ratings.default.svc.cluster.local",
        "request.headers", Map.of("x-user", "jason", "cookie", "c=1", ":path", "/x")));
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(referenced(r.getPrecondition().getReferencedAttributes())).containsExactlyInAnyOrder(
        "destination.service EXACT", "context.protocol ABSENCE", "request.headers[x-user] EXACT");
  }

  @Test
  void namespaceRulesApplyOnlyToTheirNamespaceAndDefaultNamespaceRulesToAll() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: r, namespace: bookinfo}
        spec:
          actions: [{handler: deny.testcheck.istio-system, instances: [nothing.checknothing.istio-system]}]
        """);
    assertThat(check(Map.of("destination.service", "ratings.bookinfo.svc.cluster.local"))
        .getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(check(Map.of("destination.service", "ratings.default.svc.cluster.local"))
        .getPrecondition().getStatus().getCode()).isZero();
    assertThat(check(Map.of("destination.service", "ratings"))
        .getPrecondition().getStatus().getCode()).isZero();
  }

  @Test
  void tcpRulesApplyOnlyToTcpRequestsAndHttpRulesOnlyToTheRest() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: tcp, namespace: istio-system}
        spec:
          match: context.protocol == "tcp" && source.service == "bad"
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: labelled, namespace: istio-system, labels: {istio-protocol: tcp}}
        spec:
          match: source.service == "worse"
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """);
    Map<String, String> bad = Map.of("destination.service", "d.ns.svc", "source.service", "bad",
        "context.protocol", "tcp");
    assertThat(check(bad).getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(check(Map.of("destination.service", "d.ns.svc", "source.service", "worse", "context.protocol", "tcp"))
        .getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(check(Map.of("destination.service", "d.ns.svc", "source.service", "worse", "context.protocol", "http"))
        .getPrecondition().getStatus().getCode()).isZero();
  }

  @Test
  void reportBatchesEveryRecordsInstancesPerHandler() {
    config("""
        apiVersion: config.istio.io/v1alpha2
        kind: testmetric
        metadata: {name: sink, namespace: istio-system}
        spec: {labels: {id: sink}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: metric
        metadata: {name: size, namespace: istio-system}
        spec:
          value: request.size | 0
          dimensions: {source: source.service | "unknown", code: response.code | 200}
          monitored_resource_type: '"UNSPECIFIED"'
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: all, namespace: istio-system}
        spec:
          actions: [{handler: sink.testmetric, instances: [size.metric]}]
        """);
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    assertThat(batch.add(Map.of("destination.service", "a.ns.svc", "request.size", 10L, "source.service", "x")))
        .isTrue();
    assertThat(batch.add(Map.of("destination.service", "a.ns.svc", "request.size", 20L, "source.service", "x",
        "response.code", 503L))).isTrue();
    assertThat(batch.add(Map.of("destination.service", "a.ns.svc", "request.size", 30L, "source.service", "y",
        "response.code", 200L))).isTrue();
    runtime.report(RequestDecoder.decodeReport(batch.build().toByteArray()));
    List<List<MetricInstance>> batches = TestAdapters.BATCHES.get("sink");
    assertThat(batches).hasSize(1);
    assertThat(batches.get(0)).extracting(MetricInstance::value).containsExactly(10L, 20L, 30L);
    assertThat(batches.get(0).get(0).dimensions()).isEqualTo(Map.of("source", "x", "code", 200L));
    assertThat(batches.get(0).get(1).dimensions()).isEqualTo(Map.of("source", "x", "code", 503L));
    assertThat(batches.get(0).get(2).dimensions()).isEqualTo(Map.of("source", "y", "code", 200L));
  }

  @Test
  void aFailingReportHandlerIsAnErrorNamingIt() {
    config("""
        apiVersion: config.istio.io/v1alpha2
        kind: testmetric
        metadata: {name: broken, namespace: istio-system}
        spec: {mode: DENY}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: metric
        metadata: {name: one, namespace: istio-system}
        spec: {value: "1", monitored_resource_type: '"X"'}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: all, namespace: istio-system}
        spec:
          actions: [{handler: broken.testmetric, instances: [one.metric]}]
        """);
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    batch.add(Map.of("destination.service", "a.ns.svc"));
    assertThatThrownBy(() -> runtime.report(RequestDecoder.decodeReport(batch.build().toByteArray())))
        .isInstanceOf(DispatchException.class)
        .hasMessage("broken.testmetric.istio-system:internal error (see server log)");
  }

  private static final String THROWING = """
      apiVersion: config.istio.io/v1alpha2
      kind: testcheck
      metadata: {name: flaky, namespace: istio-system}
      spec: {labels: {throw: "connection refused"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: r, namespace: istio-system}
      spec:
        actions: [{handler: flaky.testcheck, instances: [nothing.checknothing]}]
      """;

  @Test
  void aThrowingHandlerFailsClosedByDefaultAndIsNeverCacheable() {
    config(DENY_ALL + "---\n" + THROWING);
    CheckResponse r = check(Map.of("destination.service", "a.ns.svc"));
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(13);
    // The exception is for the server log; the client learns which handler failed, not its internals.
    assertThat(r.getPrecondition().getStatus().getMessage())
        .isEqualTo("flaky.testcheck.istio-system:internal error (see server log)");
    assertThat(warnings()).anySatisfy(e -> {
      assertThat(e.getFormattedMessage()).isEqualTo("handler flaky.testcheck.istio-system threw");
      assertThat(e.getThrowableProxy().getMessage()).isEqualTo("connection refused");
    });
    assertThat(r.getPrecondition().getValidDuration().getSeconds()).isZero();
    assertThat(r.getPrecondition().getValidUseCount()).isZero();
  }

  @Test
  void failOpenAllowsButStillDoesNotLetClientsCache() throws Exception {
    runtime.close();
    runtime = runtime(new RuntimeOptions("istio-system", "destination.service", Duration.ofSeconds(1),
        RuntimeOptions.FailurePolicy.OPEN, 4));
    config(DENY_ALL + "---\n" + THROWING);
    CheckResponse r = check(Map.of("destination.service", "a.ns.svc"));
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(r.getPrecondition().getValidDuration().getSeconds()).isZero();
    assertThat(r.getPrecondition().getValidUseCount()).isZero();
  }

  @Test
  void aBlockingHandlerThatMissesItsDeadlineNeverHangsTheCall() throws Exception {
    runtime.close();
    runtime = runtime(new RuntimeOptions("istio-system", "destination.service", Duration.ofMillis(100),
        RuntimeOptions.FailurePolicy.CLOSED, 4));
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: testslow
        metadata: {name: slow, namespace: istio-system}
        spec: {labels: {sleepMillis: "5000"}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: r, namespace: istio-system}
        spec:
          actions: [{handler: slow.testslow, instances: [nothing.checknothing]}]
        """);
    long start = System.nanoTime();
    CheckResponse r = check(Map.of("destination.service", "a.ns.svc"));
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3000);
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(13);
    assertThat(r.getPrecondition().getStatus().getMessage()).isEqualTo("slow.testslow.istio-system:no answer within 100 ms");
  }

  @Test
  void quotaUsesRequestIdPlusQuotaNameAndGrantsInFullWithoutARule() {
    DecodedCheckRequest request = checkRequest(Map.of("destination.service", "a.ns.svc"), Map.of("RequestCount", 5L));
    CheckResponse free = runtime.check(request);
    assertThat(free.getQuotasMap().get("RequestCount").getGrantedAmount()).isEqualTo(5);

    config("""
        apiVersion: config.istio.io/v1alpha2
        kind: testcheck
        metadata: {name: q, namespace: istio-system}
        spec: {validUseCount: 3}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: quota
        metadata: {name: requestcount, namespace: istio-system}
        spec: {dimensions: {source: source.service | "unknown"}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: quota, namespace: istio-system}
        spec:
          actions: [{handler: q.testcheck, instances: [requestcount.quota]}]
        """);
    CheckResponse limited = runtime.check(checkRequest(Map.of("destination.service", "a.ns.svc"),
        Map.of("RequestCount", 5L)));
    CheckResponse.QuotaResult q = limited.getQuotasMap().get("RequestCount");
    assertThat(q.getGrantedAmount()).isEqualTo(3);
    assertThat(q.getValidDuration().getSeconds()).isEqualTo(1);
    assertThat(referenced(q.getReferencedAttributes())).contains("source.service ABSENCE");
    assertThat(TestAdapters.QUOTA_ARGS).extracting(a -> a.deduplicationId() + "/" + a.amount())
        .containsExactly("req-1RequestCount/5");
  }

  @Test
  void aCheckWithoutADeduplicationIdAsksForQuotaWithoutOne() {
    config("""
        apiVersion: config.istio.io/v1alpha2
        kind: testcheck
        metadata: {name: q, namespace: istio-system}
        spec: {validUseCount: 3}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: quota
        metadata: {name: requestcount, namespace: istio-system}
        spec: {dimensions: {source: source.service | "unknown"}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: quota, namespace: istio-system}
        spec:
          actions: [{handler: q.testcheck, instances: [requestcount.quota]}]
        """);
    CheckRequest noId = CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(Map.of("destination.service", "a.ns.svc"), 167))
        .setGlobalWordCount(167)
        .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(1).build())
        .build();
    runtime.check(RequestDecoder.decodeCheck(noId.toByteArray()));
    runtime.check(RequestDecoder.decodeCheck(noId.toByteArray()));
    assertThat(TestAdapters.QUOTA_ARGS).extracting(QuotaArgs::deduplicationId)
        .as("an empty id, which adapters never deduplicate on; not \"RequestCount\", which every such call shares")
        .containsExactly("", "");
  }

  @Test
  void anInvalidObjectIsRejectedAloneWithItsFieldAndTheRestApplies() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: metric
        metadata: {name: broken, namespace: istio-system}
        spec: {value: request.sise, monitored_resource_type: '"X"'}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: good, namespace: istio-system}
        spec:
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: dangling, namespace: istio-system}
        spec:
          actions: [{handler: gone.testcheck, instances: [nothing.checknothing]}]
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: stackdriver
        metadata: {name: handler, namespace: istio-system}
        spec: {}
        """);
    Map<String, ObjectStatus> byName = runtime.snapshot().statuses().stream()
        .collect(Collectors.toMap(ObjectStatus::fqn, s -> s));
    assertThat(byName.get("broken.metric.istio-system").state()).isEqualTo(ObjectStatus.State.REJECTED);
    assertThat(byName.get("broken.metric.istio-system").field()).isEqualTo("spec.value");
    assertThat(byName.get("broken.metric.istio-system").error())
        .isEqualTo("failed to evaluate expression for field 'value': unknown attribute request.sise");
    assertThat(byName.get("dangling.rule.istio-system").error())
        .isEqualTo("handler 'gone.testcheck.istio-system' not found");
    assertThat(byName.get("handler.stackdriver.istio-system").error()).startsWith("unknown kind 'stackdriver'");
    assertThat(byName.get("good.rule.istio-system").state()).isEqualTo(ObjectStatus.State.ACTIVE);
    assertThat(check(Map.of("destination.service", "a.ns.svc")).getPrecondition().getStatus().getCode()).isEqualTo(7);
  }

  @Test
  void unchangedHandlersAreReusedAndReplacedOnesClosedAfterTheSwap() throws Exception {
    String rule = """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: r, namespace: istio-system}
        spec:
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """;
    config(DENY_ALL + rule);
    assertThat(TestAdapters.BUILDS.get()).isEqualTo(1);
    config(DENY_ALL + rule + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: unrelated, namespace: other}
        spec: {}
        """);
    assertThat(TestAdapters.BUILDS.get()).as("unchanged handler reused").isEqualTo(1);
    config(DENY_ALL.replace("validUseCount: 7", "validUseCount: 8") + rule);
    assertThat(TestAdapters.BUILDS.get()).isEqualTo(2);
    long deadline = System.currentTimeMillis() + 5000;
    while (TestAdapters.CLOSED.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertThat(TestAdapters.CLOSED).containsExactly("testcheck:");
    assertThat(check(Map.of("destination.service", "a.ns.svc")).getPrecondition().getValidUseCount()).isEqualTo(8);
  }

  @Test
  void withNoRuleOfAVarietyTheIdentityAttributeIsNotNeeded() {
    CheckResponse r = check(Map.of("source.service", "a"));
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(r.getPrecondition().getReferencedAttributes().getAttributeMatchesList()).isEmpty();
  }

  @Test
  void aMatchThatIsNotBoolIsRejected() {
    config(DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: r, namespace: istio-system}
        spec:
          match: source.service
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """);
    ObjectStatus s = runtime.snapshot().statuses().stream().filter(o -> o.fqn().equals("r.rule.istio-system"))
        .findFirst().orElseThrow();
    assertThat(s.field()).isEqualTo("spec.match");
    assertThat(s.error()).isEqualTo("expression 'source.service' has type STRING, must be BOOL");
  }
}
