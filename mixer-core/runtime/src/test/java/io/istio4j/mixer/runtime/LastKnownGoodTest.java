package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.runtime.config.ConfigObject;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.runtime.config.YamlDocuments;
import io.istio4j.mixer.v1.CheckResponse;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A rejected change never opens the gates: the last good version of each object stays in use. */
class LastKnownGoodTest {

  private static final Templates TEMPLATES = Templates.load(LastKnownGoodTest.class.getClassLoader());

  static final String DENY_RULE = """
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: nomallory, namespace: istio-system}
      spec:
        match: source.user == "mallory"
        actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
      """;

  private final MemoryStore store = new MemoryStore("istio-system");
  private PrometheusRegistry registry;
  private MixerRuntime runtime;

  @BeforeEach
  void start() throws Exception {
    TestAdapters.reset();
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
  }

  /** Sets the store's content to these files, read as the fs:// store reads them. */
  private void files(Map<String, String> files) {
    List<ConfigObject> objects = new ArrayList<>();
    List<ConfigStore.Problem> problems = new ArrayList<>();
    Set<String> unreadable = new TreeSet<>();
    new TreeMap<>(files).forEach((name, text) -> {
      if (!YamlDocuments.parse(name, text, "istio-system", objects, problems)) {
        unreadable.add(name);
      }
    });
    store.set(new ConfigStore.Content(objects, problems, unreadable));
  }

  private void files(String policy) {
    files(Map.of("attributes.yaml", MixerRuntimeTest.MANIFEST, "policy.yaml", policy));
  }

  private int check(String user) {
    CheckResponse r = runtime.check(MixerRuntimeTest.checkRequest(
        Map.of("destination.service", "ratings.default.svc.cluster.local", "source.user", user), Map.of()));
    return r.getPrecondition().getStatus().getCode();
  }

  private ObjectStatus status(String fqn) {
    return runtime.snapshot().statuses().stream().filter(s -> s.fqn().equals(fqn)).findFirst().orElseThrow();
  }

  /** The registry's counters and gauges, one {@code name{labels} value} line each, as /metrics shows them. */
  private String metrics() {
    StringBuilder b = new StringBuilder();
    for (MetricSnapshot m : registry.scrape()) {
      String name = m.getMetadata().getName() + (m instanceof CounterSnapshot ? "_total" : "");
      for (DataPointSnapshot d : m.getDataPoints()) {
        double value;
        if (d instanceof CounterSnapshot.CounterDataPointSnapshot c) {
          value = c.getValue();
        } else if (d instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
          value = g.getValue();
        } else {
          continue;
        }
        List<String> labels = new ArrayList<>();
        d.getLabels().forEach(l -> labels.add(l.getName() + "=\"" + l.getValue() + "\""));
        b.append(name).append(labels.isEmpty() ? "" : "{" + String.join(",", labels) + "}").append(' ')
            .append(value).append('\n');
      }
    }
    return b.toString();
  }

  @Test
  void aTypoInADenyRuleKeepsTheRuleDenying() throws Exception {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    assertThat(check("mallory")).isEqualTo(7);
    long liveSince = runtime.snapshot().version();

    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("source.user ==", "source.usr =="));

    assertThat(check("mallory")).as("the rule's last good version still denies").isEqualTo(7);
    assertThat(check("alice")).isZero();
    ObjectStatus s = status("nomallory.rule.istio-system");
    assertThat(s.state()).isEqualTo(ObjectStatus.State.STALE);
    assertThat(s.field()).isEqualTo("spec.match");
    assertThat(s.error()).isEqualTo("unknown attribute source.usr");
    assertThat(s.source()).isEqualTo("policy.yaml#3");
    assertThat(s.live()).isEqualTo(new ObjectStatus.Live("policy.yaml#3", liveSince, ObjectStatus.State.ACTIVE));
    assertThat(runtime.snapshot().rejections()).containsExactly(s);
    String json = ConfigStatusJson.render(runtime);
    assertThat(json).contains("\"state\" : \"stale\"", "\"error\" : \"unknown attribute source.usr\"",
        "\"live\" : {", "\"since\" : " + liveSince);
    String metrics = metrics();
    assertThat(metrics).contains("mixer_config_objects{state=\"stale\"} 1.0");
    assertThat(metrics).contains("mixer_config_rejections_total{kind=\"rule\"} 1.0");

    // The same rejection again is not counted again; fixing the rule makes the edit live.
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("source.user ==", "source.usr =="));
    assertThat(metrics()).contains("mixer_config_rejections_total{kind=\"rule\"} 1.0");
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("\"mallory\"", "\"eve\""));
    assertThat(check("mallory")).isZero();
    assertThat(check("eve")).isEqualTo(7);
    assertThat(status("nomallory.rule.istio-system").state()).isEqualTo(ObjectStatus.State.ACTIVE);
  }

  @Test
  void aYamlSyntaxErrorKeepsEveryObjectOfThatFile() {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    String broken = MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("metadata: {name: nomallory,",
        "metadata: {name: nomallory");
    files(broken);

    assertThat(check("mallory")).isEqualTo(7);
    ObjectStatus file = status("policy.yaml");
    assertThat(file.state()).isEqualTo(ObjectStatus.State.REJECTED);
    assertThat(file.error()).startsWith("policy.yaml:13:37: not valid YAML: while parsing a flow mapping\n"
        + " in 'policy.yaml', line 13, column 11:\n").contains("expected ',' or '}', but got :");
    for (String fqn : List.of("nomallory.rule.istio-system", "deny.testcheck.istio-system",
        "nothing.checknothing.istio-system")) {
      assertThat(status(fqn).state()).as(fqn).isEqualTo(ObjectStatus.State.STALE);
      assertThat(status(fqn).error()).as(fqn).isEqualTo(file.error());
    }
  }

  @Test
  void aDocumentThatNoLongerReadsKeepsItsObject() {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("spec:\n  match", "spec: oops\nx:\n  match"));
    assertThat(check("mallory")).isEqualTo(7);
    ObjectStatus s = status("nomallory.rule.istio-system");
    assertThat(s.state()).isEqualTo(ObjectStatus.State.STALE);
    assertThat(s.error()).isEqualTo("spec: must be a map");
  }

  @Test
  void anInvalidNewObjectIsNotAppliedAndDeletionsApply() {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("source.user ==", "source.usr =="));
    assertThat(status("nomallory.rule.istio-system").state()).isEqualTo(ObjectStatus.State.REJECTED);
    assertThat(check("mallory")).isZero();

    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    assertThat(check("mallory")).isEqualTo(7);
    files(Map.of("attributes.yaml", MixerRuntimeTest.MANIFEST));
    assertThat(check("mallory")).as("a deleted file's objects go away").isZero();
    assertThat(runtime.snapshot().statuses()).extracting(ObjectStatus::fqn).doesNotContain("nomallory.rule.istio-system");
  }

  @Test
  void aRuleKeepsItsHandlersLastGoodVersionWhenTheHandlersEditIsRejected() {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    files(MixerRuntimeTest.DENY_ALL.replace("validUseCount: 7", "validUseCount: -1") + "---\n" + DENY_RULE);
    CheckResponse r = runtime.check(MixerRuntimeTest.checkRequest(
        Map.of("destination.service", "a.ns.svc", "source.user", "mallory"), Map.of()));
    assertThat(r.getPrecondition().getStatus().getCode()).isEqualTo(7);
    assertThat(r.getPrecondition().getValidUseCount()).isEqualTo(7);
    ObjectStatus handler = status("deny.testcheck.istio-system");
    assertThat(handler.state()).isEqualTo(ObjectStatus.State.STALE);
    assertThat(handler.error()).contains("validUseCount: must be >= 0");
    assertThat(status("nomallory.rule.istio-system").state()).isEqualTo(ObjectStatus.State.ACTIVE);
  }

  @Test
  void aRuleEditThatPointsAtARejectedHandlerKeepsTheRulesLastGoodVersion() {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    files(MixerRuntimeTest.DENY_ALL + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: testcheck
        metadata: {name: other, namespace: istio-system}
        spec: {mode: DENY, validUseCount: -5}
        ---
        """ + DENY_RULE.replace("deny.testcheck", "other.testcheck"));
    assertThat(check("mallory")).isEqualTo(7);
    assertThat(status("other.testcheck.istio-system").state()).isEqualTo(ObjectStatus.State.REJECTED);
    ObjectStatus rule = status("nomallory.rule.istio-system");
    assertThat(rule.state()).isEqualTo(ObjectStatus.State.STALE);
    assertThat(rule.error()).startsWith("handler 'other.testcheck.istio-system' is rejected");
  }

  private static final String PORT_HANDLER = """
      apiVersion: config.istio.io/v1alpha2
      kind: testport
      metadata: {name: deny, namespace: istio-system}
      spec: {mode: DENY, labels: {port: "%d", id: "%d"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: checknothing
      metadata: {name: nothing, namespace: istio-system}
      spec: {}
      ---
      """ + DENY_RULE.replace("deny.testcheck", "deny.testport");

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void aHandlerMovedToABusyPortKeepsServingAndIsBuiltAgainWithBackoff() throws Exception {
    int first = freePort();
    files(PORT_HANDLER.formatted(first, first));
    assertThat(check("mallory")).isEqualTo(7);

    try (ServerSocket busy = new ServerSocket(0)) {
      int taken = busy.getLocalPort();
      files(PORT_HANDLER.formatted(taken, taken));
      assertThat(check("mallory")).as("the old handler keeps serving").isEqualTo(7);
      ObjectStatus s = status("deny.testport.istio-system");
      assertThat(s.state()).isEqualTo(ObjectStatus.State.STALE);
      assertThat(s.error()).contains("build failed", "port " + taken);
      assertThat(runtime.snapshot().handlers()).containsKey("deny.testport.istio-system");
      assertThat(runtime.retryScheduledIn()).isEqualTo(Duration.ofSeconds(1));

      long version = runtime.snapshot().version();
      runtime.retryHandlers(); // what the scheduled retry runs
      assertThat(runtime.retryScheduledIn()).isEqualTo(Duration.ofSeconds(2));
      runtime.retryHandlers();
      assertThat(runtime.retryScheduledIn()).isEqualTo(Duration.ofSeconds(4));
      assertThat(runtime.snapshot().version()).as("a retry that fails as before swaps nothing").isEqualTo(version);
      assertThat(TestAdapters.CLOSED).isEmpty();
    }
    runtime.retryHandlers();
    assertThat(runtime.retryScheduledIn()).isNull();
    assertThat(status("deny.testport.istio-system").state()).isEqualTo(ObjectStatus.State.ACTIVE);
    assertThat(check("mallory")).isEqualTo(7);
    assertThat(metrics()).contains("mixer_config_handler_retries_total{result=\"built\"} 1.0",
        "mixer_config_handler_retries_total{result=\"failed\"} 2.0");
  }

  @Test
  void aNewHandlerOnABusyPortIsBuiltOnceThePortIsFree() throws Exception {
    try (ServerSocket busy = new ServerSocket(0)) {
      int taken = busy.getLocalPort();
      files(PORT_HANDLER.formatted(taken, taken));
      assertThat(status("deny.testport.istio-system").state()).isEqualTo(ObjectStatus.State.REJECTED);
      assertThat(runtime.retryScheduledIn()).isEqualTo(Duration.ofSeconds(1));
    }
    runtime.retryHandlers();
    assertThat(check("mallory")).isEqualTo(7);
    assertThat(runtime.retryScheduledIn()).isNull();
  }

  private static String throwing(String name, String where, String what) {
    return """
        apiVersion: config.istio.io/v1alpha2
        kind: testthrow
        metadata: {name: %s, namespace: istio-system}
        spec: {labels: {%s: %s}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: uses%s, namespace: istio-system}
        spec:
          actions: [{handler: %s.testthrow, instances: [nothing.checknothing]}]
        """.formatted(name, where, what, name, name);
  }

  @Test
  void anyThrowableFromOneObjectRejectsItAloneAndLaterEditsStillApply() throws Exception {
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE
        + "---\n" + throwing("soe", "validate", "StackOverflowError")
        + "---\n" + throwing("oom", "validate", "OutOfMemoryError")
        + "---\n" + throwing("ise", "build", "boom")
        + "---\n" + throwing("oombuild", "build", "OutOfMemoryError")
        + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: testthrow
        metadata: {name: unused, namespace: istio-system}
        spec: {labels: {validate: StackOverflowError}}
        """);
    assertThat(check("mallory")).isEqualTo(7);
    assertThat(status("soe.testthrow.istio-system").error()).contains("StackOverflowError");
    assertThat(status("oom.testthrow.istio-system").error())
        .isEqualTo("building the handler failed: OutOfMemoryError: too large (Java heap space)");
    assertThat(status("ise.testthrow.istio-system").error()).contains("build failed", "boom");
    assertThat(status("oombuild.testthrow.istio-system").error()).contains("OutOfMemoryError");
    assertThat(status("unused.testthrow.istio-system").error())
        .isEqualTo("validating the handler config failed: StackOverflowError: nested too deeply (an expression or"
            + " a spec); simplify it");
    assertThat(metrics()).contains("mixer_config_object_errors_total{kind=\"testthrow\"} 3.0");

    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("mallory", "eve")
        + "---\n" + throwing("soe", "validate", "StackOverflowError"));
    assertThat(check("eve")).as("later edits still apply").isEqualTo(7);
    assertThat(check("mallory")).isZero();
  }

  @Test
  void aMatchNestedTwentyThousandDeepCannotStopTheConfigPipeline() {
    String deep = "(".repeat(20_000) + "source.user == \"x\"" + ")".repeat(20_000);
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: deep, namespace: istio-system}
        spec:
          match: '%s'
          actions: [{handler: deny.testcheck, instances: [nothing.checknothing]}]
        """.formatted(deep));
    assertThat(check("mallory")).isEqualTo(7);
    ObjectStatus s = status("deep.rule.istio-system");
    // The expression module may accept it (an iterative parser) or reject it; either way it is
    // this object's own state, and the pipeline goes on.
    if (s.state() == ObjectStatus.State.REJECTED) {
      assertThat(s.error()).isNotEmpty();
    }
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("mallory", "eve"));
    assertThat(check("eve")).isEqualTo(7);
  }

  @Test
  void strictModeRefusesAFirstConfigWithRejectionsAndSaysWhy() throws Exception {
    runtime.close();
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("source.user ==", "source.usr =="));
    runtime = runtime(RuntimeOptions.DEFAULTS.withConfigPolicy(RuntimeOptions.ConfigPolicy.STRICT));

    assertThat(runtime.ready()).isFalse();
    Readiness r = runtime.readiness();
    assertThat(r.ready()).isFalse();
    assertThat(r.reason()).isEqualTo("--configStrict: the config has 1 rejected object(s), so none of it is applied: "
        + "nomallory.rule.istio-system (policy.yaml#3): spec.match: unknown attribute source.usr");
    assertThat(runtime.snapshot().version()).isZero();

    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    assertThat(runtime.readiness()).isEqualTo(Readiness.ready("config snapshot 1 live"));
    assertThat(check("mallory")).isEqualTo(7);
  }

  @Test
  void strictModeKeepsTheWholeLastSnapshotWhileAnyObjectIsRejected() throws Exception {
    runtime.close();
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE);
    runtime = runtime(RuntimeOptions.DEFAULTS.withConfigPolicy(RuntimeOptions.ConfigPolicy.STRICT));
    assertThat(check("mallory")).isEqualTo(7);

    // One good edit (deny eve too) and one bad object: nothing of it applies.
    files(MixerRuntimeTest.DENY_ALL + "---\n" + DENY_RULE.replace("\"mallory\"", "\"mallory\" || source.user == \"eve\"")
        + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: testcheck
        metadata: {name: broken, namespace: istio-system}
        spec: {validUseCount: -1}
        """);
    assertThat(check("eve")).isZero();
    assertThat(runtime.snapshot().version()).isEqualTo(1);
    assertThat(runtime.refused()).extracting(ObjectStatus::fqn).containsExactly("broken.testcheck.istio-system");
    assertThat(runtime.readiness().ready()).isTrue();
    assertThat(runtime.readiness().reason()).contains("the newest change is not applied (--configStrict)");
    assertThat(ConfigStatusJson.render(runtime)).contains("\"refused\" : [", "broken.testcheck.istio-system");
    assertThat(metrics()).contains("mixer_config_reloads_total{result=\"refused\"} 1.0");
  }
}
