package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.read.ListAppender;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.Status;
import io.istio4j.mixer.runtime.config.MemoryStore;
import io.istio4j.mixer.runtime.testing.TestParams;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

/**
 * Handlers close on the runtime's close thread, exactly once, whichever way they stop being used:
 * replaced (after the requests using them drain), built by a snapshot that never goes live, or
 * live at shutdown; and shutdown waits for every pending close, bounded per handler.
 */
@Timeout(60)
class HandlerCloseTest {

  private static final Templates TEMPLATES = Templates.load(HandlerCloseTest.class.getClassLoader());

  /** What each handler's close wrote out: {@code id:checks handled@thread}. */
  static final List<String> FLUSHED = new CopyOnWriteArrayList<>();
  /** Handlers labelled {@code closeBlocks} wait here in close until the test opens it. */
  static volatile CountDownLatch gate = new CountDownLatch(1);
  static volatile CountDownLatch closes = new CountDownLatch(1);

  private final MemoryStore store = new MemoryStore("istio-system");
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private MixerRuntime runtime;

  @BeforeEach
  void start() {
    FLUSHED.clear();
    gate = new CountDownLatch(1);
    logs.start();
    ((Logger) LoggerFactory.getLogger(HandlerCloser.class)).addAppender(logs);
  }

  @AfterEach
  void stop() {
    gate.countDown();
    if (runtime != null) {
      runtime.close();
    }
    ((Logger) LoggerFactory.getLogger(HandlerCloser.class)).detachAppender(logs);
  }

  private MixerRuntime runtime(RuntimeOptions options, Duration closeTimeout) throws Exception {
    MixerRuntime r = new MixerRuntime(TEMPLATES, Adapters.of(TEMPLATES, () -> INFO), options,
        new PrometheusRegistry(), Clock.systemUTC(), closeTimeout);
    r.start(store);
    return r;
  }

  private MixerRuntime runtime() throws Exception {
    return runtime(RuntimeOptions.DEFAULTS, MixerRuntime.HANDLER_CLOSE_TIMEOUT);
  }

  /** A config of one handler {@code name} with these labels, used by a rule. */
  private static String config(String name, String labels) {
    return MixerRuntimeTest.MANIFEST + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: nothing, namespace: istio-system}
        spec: {}
        """ + handler(name, labels);
  }

  /** One more handler {@code name} with these labels, and a rule using it. */
  private static String handler(String name, String labels) {
    return """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: testclose
        metadata: {name: NAME, namespace: istio-system}
        spec: {labels: {LABELS}}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: NAME-rule, namespace: istio-system}
        spec:
          actions: [{handler: NAME.testclose, instances: [nothing.checknothing]}]
        """.replace("NAME", name).replace("LABELS", labels);
  }

  private void check() {
    runtime.check(MixerRuntimeTest.checkRequest(Map.of("destination.service", "a.ns.svc"), Map.of()));
  }

  private static void awaitCloses(int n) throws InterruptedException {
    for (int i = 0; i < 1000 && FLUSHED.size() < n; i++) {
      Thread.sleep(10);
    }
  }

  private List<String> warnings() {
    return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage).toList();
  }

  @Test
  void aHandlerReplacedWhileARequestHoldsItClosesOnTheCloseThreadOnceTheRequestEnds() throws Exception {
    store.setYaml(config("h", "id: one"));
    runtime = runtime();
    check();
    Snapshot old = runtime.snapshot();
    assertThat(old.tryAcquire()).as("a request in flight").isTrue();

    store.setYaml(config("h", "id: two"));
    check();
    assertThat(FLUSHED).as("still used by the request in flight").isEmpty();

    old.release();
    awaitCloses(1);
    assertThat(FLUSHED).singleElement().satisfies(line -> {
      assertThat(line).startsWith("one:1@");
      assertThat(line).as("not on the adapters' scheduler").contains("@handler-close-");
    });
  }

  @Test
  void closingTheRuntimeClosesAReplacedHandlerStillDrainingAndTheLiveOne() throws Exception {
    store.setYaml(config("h", "id: one"));
    runtime = runtime();
    check();
    Snapshot old = runtime.snapshot();
    assertThat(old.tryAcquire()).isTrue();
    store.setYaml(config("h", "id: two"));
    check();
    check();

    runtime.close(); // the request holding the old snapshot never ends

    assertThat(FLUSHED).allSatisfy(l -> assertThat(l).contains("@handler-close-"))
        .extracting(l -> l.substring(0, l.indexOf('@'))).containsExactlyInAnyOrder("one:1", "two:2");
    old.release(); // ends after shutdown: nothing closes twice
    runtime.close();
    assertThat(FLUSHED).hasSize(2);
  }

  @Test
  void shutdownWaitsForPendingClosesAndGivesUpOnAStuckOneAfterItsTimeout() throws Exception {
    store.setYaml(config("stuck", "id: stuck, closeBlocks: 'yes'"));
    runtime = runtime(RuntimeOptions.DEFAULTS, Duration.ofMillis(300));
    closes = new CountDownLatch(1);
    store.setYaml(config("next", "id: next"));
    assertThat(closes.await(10, TimeUnit.SECONDS)).as("the stuck close began").isTrue();
    // The close thread is stuck; this replacement's close waits behind it.
    store.setYaml(config("last", "id: last"));

    runtime.close();

    assertThat(FLUSHED).as("closed although the close thread was stuck")
        .allSatisfy(l -> assertThat(l).contains("@handler-close-"))
        .extracting(l -> l.substring(0, l.indexOf('@'))).containsExactlyInAnyOrder("next:0", "last:0");
    assertThat(warnings()).anyMatch(w -> w.contains("stuck.testclose.istio-system")
        && w.contains("did not close within 300 ms"));
  }

  @Test
  void aStrictModeRefusalClosesTheHandlersTheRefusedBuildMadeOnTheCloseThread() throws Exception {
    store.setYaml(config("h", "id: one"));
    runtime = runtime(RuntimeOptions.DEFAULTS.withConfigPolicy(RuntimeOptions.ConfigPolicy.STRICT),
        MixerRuntime.HANDLER_CLOSE_TIMEOUT);
    store.setYaml(config("h", "id: two") + """
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: broken, namespace: istio-system}
        spec: {match: nosuch.attribute == "x"}
        """);
    assertThat(runtime.refused()).isNotEmpty();
    awaitCloses(1);
    assertThat(FLUSHED).singleElement().satisfies(l -> assertThat(l).startsWith("two:0@handler-close-"));
    check();
    assertThat(FLUSHED).as("the live handler stays open").hasSize(1);
  }

  @Test
  void aRetriedBuildThatIsRefusedAgainClosesWhatItBuilt() throws Exception {
    store.setYaml(config("h", "id: one"));
    runtime = runtime(RuntimeOptions.DEFAULTS.withConfigPolicy(RuntimeOptions.ConfigPolicy.STRICT),
        MixerRuntime.HANDLER_CLOSE_TIMEOUT);
    // h changes and builds; failing fails to build (retryably): the change is refused and retried.
    store.setYaml(config("h", "id: two") + handler("failing", "buildFails: 'yes'"));
    assertThat(runtime.retryScheduledIn()).isNotNull();
    awaitCloses(1);
    runtime.retryHandlers();
    awaitCloses(2);
    assertThat(FLUSHED).hasSize(2).allSatisfy(l -> assertThat(l).startsWith("two:0@handler-close-"));
  }

  @Test
  void aBuildStoppedByAnErrorClosesTheHandlersItHadBuiltOnTheCloseThread() throws Exception {
    store.setYaml(config("h", "id: one"));
    runtime = runtime();
    long live = runtime.snapshot().version();
    // The Error escapes the per-object guard: the log call that reports the rejected object throws.
    AppenderBase<ILoggingEvent> throwing = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        if (e.getFormattedMessage().startsWith("config object")) {
          throw new Error("injected: the build stops here");
        }
      }
    };
    throwing.start();
    Logger builderLog = (Logger) LoggerFactory.getLogger(SnapshotBuilder.class);
    builderLog.addAppender(throwing);
    try {
      // a.testclose (built first, by name) builds; z.testclose's validation throws.
      store.setYaml(config("a", "id: a") + handler("z", "validateThrows: 'yes'"));
    } finally {
      builderLog.detachAppender(throwing);
    }
    assertThat(runtime.snapshot().version()).as("nothing of the failed build went live").isEqualTo(live);
    awaitCloses(1);
    assertThat(FLUSHED).singleElement().satisfies(l -> assertThat(l).startsWith("a:0@handler-close-"));
  }

  // ---- the test adapter ----

  static final AdapterInfo INFO = AdapterInfo.builder("testclose")
      .description("a check adapter whose close flushes what it handled")
      .supportedTemplates("checknothing")
      .defaultConfig(TestParams.getDefaultInstance())
      .builderFactory(Builder::new)
      .build();

  static final class Builder implements CheckNothingHandlerBuilder<TestParams> {
    private TestParams params;

    @Override
    public void setAdapterConfig(TestParams config) {
      params = config;
    }

    @Override
    public ConfigErrors validate() {
      if (params.getLabelsMap().containsKey("validateThrows")) {
        throw new OutOfMemoryError("injected");
      }
      return new ConfigErrors();
    }

    @Override
    public Handler build(Env env) {
      if (params.getLabelsMap().containsKey("buildFails")) {
        throw new IllegalStateException("backend not reachable");
      }
      return new Closing(params.getLabelsMap().getOrDefault("id", ""), params.getLabelsMap().containsKey("closeBlocks"));
    }
  }

  /** Counts the checks it answers and writes the count out when it closes, as a buffered writer flushes. */
  static final class Closing implements CheckNothingHandler {
    private final String id;
    private final boolean blocks;
    private final AtomicInteger handled = new AtomicInteger();

    Closing(String id, boolean blocks) {
      this.id = id;
      this.blocks = blocks;
    }

    @Override
    public CheckResult handleCheckNothing(CheckNothingInstance instance) {
      handled.incrementAndGet();
      return CheckResult.of(Status.OK, Duration.ofSeconds(1), 1);
    }

    @Override
    public void close() throws InterruptedException {
      if (blocks) {
        closes.countDown();
        gate.await();
      }
      FLUSHED.add(id + ":" + handled.get() + "@" + Thread.currentThread().getName());
    }
  }
}
