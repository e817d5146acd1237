package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.Snapshot.HandlerEntry;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.v1.CheckResponse;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mixer's runtime: keeps the live {@link Snapshot} of a {@link ConfigStore} and answers Check and
 * Report with it. Config changes are built into a new snapshot off the request path and swapped in
 * atomically; handlers the new snapshot no longer uses are closed once the requests still holding
 * the old one finish.
 *
 * <pre>{@code
 * MixerRuntime runtime = new MixerRuntime(templates, adapters, RuntimeOptions.DEFAULTS, registry, Clock.systemUTC());
 * runtime.start(new FsStore(Path.of("config"), "istio-system", Duration.ofMillis(200)));
 * CheckResponse response = runtime.check(RequestDecoder.decodeCheck(bytes));
 * }</pre>
 */
public final class MixerRuntime implements RequestProcessor, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MixerRuntime.class);

  /** Upstream's answer when no rule applies: valid for 10 s or 200 uses. */
  static final Duration DEFAULT_VALID_DURATION = Duration.newBuilder().setSeconds(10).build();
  static final int DEFAULT_VALID_USE_COUNT = 200;
  private static final long DRAIN_WARNING_SECONDS = 10;
  /** Handlers whose build failed for a reason that may pass are built again after 1 s, 2 s, ... up to 60 s. */
  static final java.time.Duration FIRST_RETRY = java.time.Duration.ofSeconds(1);
  static final java.time.Duration LAST_RETRY = java.time.Duration.ofSeconds(60);
  private static final int REASON_EXAMPLES = 3;
  /** How long shutdown waits for each handler's close. */
  static final java.time.Duration HANDLER_CLOSE_TIMEOUT = java.time.Duration.ofSeconds(5);

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final RuntimeMetrics metrics;
  private final RegistryAdapterMetrics adapterMetrics;
  private final Clock clock;
  private final SpanReporter spans;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService daemons;
  private final Dispatcher dispatcher;
  private final SnapshotBuilder builder;
  private final AtomicReference<Snapshot> current;
  // Clients can cause these at will (a missing attribute, a request a buggy handler throws on):
  // bounded, escaped lines, one limiter per kind so one flood does not hide the other.
  private final Object applyLock = new Object();
  /** Runs handler build retries: config work, never on a request or adapter thread. */
  private final ScheduledExecutorService configThread;
  /** Closes replaced and unused handlers on a thread of its own, and all of them at shutdown. */
  private final HandlerCloser closer;
  private volatile boolean ready;
  private volatile boolean closed;
  private ConfigStore store;
  private long version;
  // Guarded by applyLock:
  private ConfigStore.Content lastContent;
  private java.time.Duration retryDelay = FIRST_RETRY;
  private ScheduledFuture<?> retry;
  private java.time.Duration retryScheduledIn;
  private Set<String> reported = Set.of();
  /** --configStrict: the rejections of the newest content, which is therefore not applied. */
  private volatile List<ObjectStatus> refused = List.of();

  /** A runtime for the given build, not started. */
  public MixerRuntime(Templates templates, Adapters adapters, RuntimeOptions options, PrometheusRegistry registry,
      Clock clock) {
    this(templates, adapters, options, registry, clock, HANDLER_CLOSE_TIMEOUT, SpanReporter.NONE);
  }

  /** A runtime whose handlers report spans to {@code spans} ({@code Env.reportSpan}), not started. */
  public MixerRuntime(Templates templates, Adapters adapters, RuntimeOptions options, PrometheusRegistry registry,
      Clock clock, SpanReporter spans) {
    this(templates, adapters, options, registry, clock, HANDLER_CLOSE_TIMEOUT, spans);
  }

  /** @param closeTimeout how long {@link #close()} waits for each handler to close */
  MixerRuntime(Templates templates, Adapters adapters, RuntimeOptions options, PrometheusRegistry registry,
      Clock clock, java.time.Duration closeTimeout) {
    this(templates, adapters, options, registry, clock, closeTimeout, SpanReporter.NONE);
  }

  private MixerRuntime(Templates templates, Adapters adapters, RuntimeOptions options, PrometheusRegistry registry,
      Clock clock, java.time.Duration closeTimeout, SpanReporter spans) {
    this.spans = requireNonNull(spans, "spans");
    this.templates = requireNonNull(templates, "templates");
    this.adapters = requireNonNull(adapters, "adapters");
    this.options = requireNonNull(options, "options");
    this.clock = requireNonNull(clock, "clock");
    this.metrics = new RuntimeMetrics(registry);
    this.adapterMetrics = new RegistryAdapterMetrics(registry);
    this.scheduler = Executors.newScheduledThreadPool(2, named("adapter-scheduler"));
    this.daemons = Executors.newCachedThreadPool(named("adapter-daemon"));
    this.dispatcher = new Dispatcher(options, metrics);
    this.configThread = Executors.newSingleThreadScheduledExecutor(named("config-retry"));
    this.closer = new HandlerCloser(closeTimeout);
    this.builder = SnapshotBuilder.forServing(templates, adapters, options, this::env, metrics, closer::closeSoon);
    this.current = new AtomicReference<>(Snapshot.empty(options));
  }

  private static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private HandlerEnv env(AdapterInfo adapter, String handler) {
    return new HandlerEnv(adapter.name(), handler, clock, scheduler, daemons, adapterMetrics,
        options.fileOutputPolicy(), spans);
  }

  /**
   * Loads the store's config (the first snapshot is live when this returns) and follows its changes.
   * With {@link RuntimeOptions.ConfigPolicy#STRICT}, a first config with rejected objects is not
   * applied: the runtime stays not ready ({@link #readiness()} says why) until a clean change arrives.
   */
  public void start(ConfigStore configStore) throws IOException {
    this.store = requireNonNull(configStore, "configStore");
    synchronized (applyLock) { // a change the store sees meanwhile applies after the first content
      apply(configStore.start(this::apply, e -> metrics.storeError()));
    }
  }

  /** True once the first snapshot is live. */
  public boolean ready() {
    return ready;
  }

  /** Whether the runtime answers with its config, and why not; for {@code /readyz}. */
  public Readiness readiness() {
    if (closed) {
      return Readiness.notReady("shutting down");
    }
    List<ObjectStatus> notApplied = refused;
    if (!ready) {
      if (!notApplied.isEmpty()) {
        return Readiness.notReady("--configStrict: the config has " + notApplied.size()
            + " rejected object(s), so none of it is applied: " + examples(notApplied));
      }
      return Readiness.notReady("config not loaded yet");
    }
    Snapshot s = current.get();
    StringBuilder reason = new StringBuilder("config snapshot ").append(s.version()).append(" live");
    int rejected = s.rejections().size();
    if (rejected > 0) {
      reason.append("; ").append(rejected).append(" object(s) rejected (see /debug/config)");
    }
    if (!notApplied.isEmpty()) {
      reason.append("; the newest change is not applied (--configStrict): ").append(examples(notApplied));
    }
    return Readiness.ready(reason.toString());
  }

  private static String examples(List<ObjectStatus> rejections) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(REASON_EXAMPLES, rejections.size()); i++) {
      b.append(i == 0 ? "" : "; ").append(oneLine(rejections.get(i).describe()));
    }
    if (rejections.size() > REASON_EXAMPLES) {
      b.append("; and ").append(rejections.size() - REASON_EXAMPLES).append(" more (see /debug/config)");
    }
    return b.toString();
  }

  /** A message on one line: YAML errors carry the parser's multi-line snippet. */
  private static String oneLine(String s) {
    return s.replace("\r", "").replace("\n", " | ");
  }

  /**
   * With {@code --configStrict}, the rejections of the newest config, which is therefore not
   * applied; empty when the newest config is live.
   */
  public List<ObjectStatus> refused() {
    return refused;
  }

  /** The live snapshot. */
  public Snapshot snapshot() {
    return current.get();
  }

  /** The templates of this build. */
  public Templates templates() {
    return templates;
  }

  /** The adapters of this build. */
  public Adapters adapters() {
    return adapters;
  }

  /**
   * Builds and swaps in the snapshot of {@code content}; never throws. Whatever the build throws
   * keeps the live snapshot; rejected objects are logged and counted once each.
   */
  public void apply(ConfigStore.Content content) {
    synchronized (applyLock) {
      if (closed) {
        return;
      }
      lastContent = content;
      retryDelay = FIRST_RETRY; // new content: its handler failures get the short delay first
      cancelRetry();
      build(content, false);
    }
  }

  /** Builds {@code content} into a snapshot and swaps it in (unless refused); holds applyLock. */
  private void build(ConfigStore.Content content, boolean retrying) {
    long started = System.nanoTime();
    Snapshot old = current.get();
    Snapshot next;
    try {
      next = builder.build(content, old, version + 1);
    } catch (Throwable e) { // NOPMD: an Error from one build must not end config reloads
      metrics.reloadFailed();
      log.error("config change not applied; snapshot {} stays live", old.version(), e);
      return;
    }
    boolean kept = false;
    try {
      kept = swapIn(next, old, retrying, started);
    } catch (Throwable e) { // NOPMD: as above
      metrics.reloadFailed();
      log.error("config change not applied; snapshot {} stays live", current.get().version(), e);
    } finally {
      if (!kept && current.get() != next) {
        discard(next, old); // whatever stopped it going live, the handlers it built are closed
      }
    }
  }

  /**
   * Swaps {@code next} in unless it is refused; holds applyLock.
   *
   * @return false when refused: its new handlers are to be closed
   */
  private boolean swapIn(Snapshot next, Snapshot old, boolean retrying, long started) {
    List<ObjectStatus> rejections = next.rejections();
    report(rejections);
    if (options.configPolicy() == RuntimeOptions.ConfigPolicy.STRICT && !rejections.isEmpty()) {
      metrics.reloadRefused();
      refused = rejections;
      log.warn("config change not applied (--configStrict): {} object(s) rejected; {}", rejections.size(),
          ready ? "snapshot " + old.version() + " stays live" : "Mixer stays not ready");
      scheduleRetry(next.retryable());
      return false;
    }
    refused = List.of();
    if (retrying && sameAs(old, next)) {
      scheduleRetry(next.retryable()); // the retry failed as before: nothing to swap
      return true;
    }
    version = next.version();
    current.set(next);
    retire(old, next);
    ready = true;
    metrics.snapshot(next.version(), next.statuses(), (System.nanoTime() - started) / 1e9);
    log.info("config snapshot {} live: {} objects ({} rejected), {} rules, {} handlers, built in {} ms",
        next.version(), next.statuses().size(), rejections.size(), next.ruleCount(), next.handlers().size(),
        (System.nanoTime() - started) / 1_000_000);
    scheduleRetry(next.retryable());
    return true;
  }

  /** Logs and counts the rejections not reported before (one line each, not on every reload). */
  private void report(List<ObjectStatus> rejections) {
    Set<String> now = new HashSet<>();
    for (ObjectStatus s : rejections) {
      String line = oneLine(s.describe());
      now.add(line);
      if (!reported.contains(line)) {
        metrics.rejected(s.kind());
        log.warn("config rejected: {}", line);
      }
    }
    reported = now;
  }

  /** True when {@code next} has the same handlers and object states as {@code old}. */
  private static boolean sameAs(Snapshot old, Snapshot next) {
    if (!old.statuses().equals(next.statuses()) || !old.handlers().keySet().equals(next.handlers().keySet())) {
      return false;
    }
    for (Map.Entry<String, HandlerEntry> e : next.handlers().entrySet()) {
      if (old.handlers().get(e.getKey()) != e.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** Closes, on the close thread, the handlers a snapshot that never went live built. */
  private void discard(Snapshot unused, Snapshot live) {
    Set<Object> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    for (HandlerEntry h : live.handlers().values()) {
      kept.add(h.handler());
    }
    List<HandlerEntry> built = new ArrayList<>();
    for (HandlerEntry h : unused.handlers().values()) {
      if (!kept.contains(h.handler())) {
        built.add(h);
      }
    }
    closer.closeSoon(built);
  }

  // ---- building failed handlers again ----

  /**
   * Builds the current content again after a delay when handlers failed to build for a reason
   * that may pass (a port in use, a backend not reachable), doubling the delay up to {@link
   * #LAST_RETRY}; holds applyLock.
   */
  private void scheduleRetry(Set<String> failed) {
    if (failed.isEmpty()) {
      retryDelay = FIRST_RETRY;
      return;
    }
    if (retry != null || closed) {
      return;
    }
    java.time.Duration delay = retryDelay;
    retryDelay = delay.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : delay.multipliedBy(2);
    log.info("handler(s) {} failed to build for a reason that may pass; building again in {} s",
        new TreeSet<>(failed), delay.toSeconds());
    retryScheduledIn = delay;
    retry = configThread.schedule(this::retryHandlers, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void cancelRetry() {
    if (retry != null) {
      retry.cancel(false);
      retry = null;
      retryScheduledIn = null;
    }
  }

  /** Builds the current content again (what the scheduled retry runs); package-private for tests. */
  void retryHandlers() {
    try {
      synchronized (applyLock) {
        retry = null;
        retryScheduledIn = null;
        if (closed || lastContent == null) {
          return;
        }
        build(lastContent, true);
        metrics.handlerRetry(retry == null);
      }
    } catch (Throwable e) { // NOPMD: never let a retry die silently
      log.error("building failed handlers again failed", e);
    }
  }

  /** The delay of the scheduled handler retry, or null when none is scheduled; for tests. */
  java.time.Duration retryScheduledIn() {
    synchronized (applyLock) {
      return retryScheduledIn;
    }
  }

  /**
   * Closes the handlers {@code old} has and {@code next} does not, once {@code old} drains, on the
   * close thread (at shutdown, {@link #close()} closes them if {@code old} has not drained by then).
   */
  private void retire(Snapshot old, Snapshot next) {
    Set<Object> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    for (HandlerEntry h : next.handlers().values()) {
      kept.add(h.handler());
    }
    List<HandlerEntry> replaced = new ArrayList<>();
    for (HandlerEntry h : old.handlers().values()) {
      if (!kept.contains(h.handler())) {
        replaced.add(h);
      }
    }
    old.retire(closer.register(replaced));
    if (!replaced.isEmpty()) {
      scheduler.schedule(() -> {
        if (!old.drained()) {
          log.warn("snapshot {} still has requests after {} s; its {} replaced handler(s) are left open",
              old.version(), DRAIN_WARNING_SECONDS, replaced.size());
        }
      }, DRAIN_WARNING_SECONDS, TimeUnit.SECONDS);
    }
  }

  private Snapshot acquire() {
    for (;;) {
      Snapshot s = current.get();
      if (s.tryAcquire()) {
        return s;
      }
    }
  }

  // ---- requests ----

  @Override
  public CompletionStage<CheckResponse> check(DecodedCheckRequest request, CallContext context) {
    Snapshot s = acquire();
    CompletableFuture<CheckResponse> answer;
    try {
      answer = dispatcher.check(s, request, context);
    } catch (RuntimeException | Error e) {
      s.release();
      throw e;
    }
    return held(s, answer);
  }

  @Override
  public CompletionStage<Void> report(DecodedReportRequest request, CallContext context) {
    Snapshot s = acquire();
    CompletableFuture<Void> done;
    try {
      done = dispatcher.report(s, request, context);
    } catch (RuntimeException | Error e) {
      s.release();
      throw e;
    }
    return held(s, done);
  }

  /** Releases the snapshot once {@code answer} completes, so its handlers stay open until then. */
  private static <T> CompletableFuture<T> held(Snapshot s, CompletableFuture<T> answer) {
    if (answer.isDone()) {
      s.release();
      return answer;
    }
    return answer.whenComplete((v, e) -> s.release());
  }

  /**
   * Stops following the store, closes every handler (the live ones, and replaced ones whose
   * snapshot has not drained or whose close has not run yet), each given up to the close timeout,
   * and then stops the executors. Handlers close before the executors stop because a close may
   * need them (a stdio handler's writer thread flushing its last lines).
   */
  @Override
  public void close() {
    closed = true;
    if (store != null) {
      store.close();
    }
    Snapshot s;
    synchronized (applyLock) { // waits for a build in progress; none starts after
      cancelRetry();
      s = current.getAndSet(Snapshot.empty(options));
    }
    configThread.shutdownNow();
    dispatcher.close();
    closer.closeAll(s.handlers().values()); // logs each handler that overruns
    daemons.shutdownNow();
    scheduler.shutdownNow();
  }
}
