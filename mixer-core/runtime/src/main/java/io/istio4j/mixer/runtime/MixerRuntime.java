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
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final RuntimeMetrics metrics;
  private final RegistryAdapterMetrics adapterMetrics;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService daemons;
  private final Dispatcher dispatcher;
  private final SnapshotBuilder builder;
  private final AtomicReference<Snapshot> current;
  private final Object applyLock = new Object();
  private volatile boolean ready;
  private ConfigStore store;
  private long version;

  /** A runtime for the given build, not started. */
  public MixerRuntime(Templates templates, Adapters adapters, RuntimeOptions options, PrometheusRegistry registry,
      Clock clock) {
    this.templates = requireNonNull(templates, "templates");
    this.adapters = requireNonNull(adapters, "adapters");
    this.options = requireNonNull(options, "options");
    this.clock = requireNonNull(clock, "clock");
    this.metrics = new RuntimeMetrics(registry);
    this.adapterMetrics = new RegistryAdapterMetrics(registry);
    this.scheduler = Executors.newScheduledThreadPool(2, named("adapter-scheduler"));
    this.daemons = Executors.newCachedThreadPool(named("adapter-daemon"));
    this.dispatcher = new Dispatcher(options, metrics);
    this.builder = new SnapshotBuilder(templates, adapters, options, this::env, true, metrics);
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
    return new HandlerEnv(adapter.name(), handler, clock, scheduler, daemons, adapterMetrics);
  }

  /** Loads the store's config (the first snapshot is live when this returns) and follows its changes. */
  public void start(ConfigStore configStore) throws IOException {
    this.store = requireNonNull(configStore, "configStore");
    apply(configStore.start(this::apply));
  }

  /** True once the first snapshot is live. */
  public boolean ready() {
    return ready;
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

  /** Builds and swaps in the snapshot of {@code content}; never throws. */
  public void apply(ConfigStore.Content content) {
    synchronized (applyLock) {
      long started = System.nanoTime();
      Snapshot old = current.get();
      Snapshot next;
      try {
        next = builder.build(content, old, version + 1);
      } catch (RuntimeException | LinkageError e) {
        metrics.reloadFailed();
        log.error("config change not applied; snapshot {} stays live", old.version(), e);
        return;
      }
      version = next.version();
      current.set(next);
      ready = true;
      metrics.snapshot(next.version(), next.statuses(), (System.nanoTime() - started) / 1e9);
      long rejected = next.statuses().stream().filter(s -> s.state() == ObjectStatus.State.REJECTED).count();
      log.info("config snapshot {} live: {} objects ({} rejected), {} rules, {} handlers, built in {} ms",
          next.version(), next.statuses().size(), rejected, next.ruleCount(), next.handlers().size(),
          (System.nanoTime() - started) / 1_000_000);
      for (ObjectStatus s : next.statuses()) {
        if (s.state() == ObjectStatus.State.REJECTED) {
          log.warn("config rejected: {}", s.describe());
        }
      }
      retire(old, next);
    }
  }

  /** Closes the handlers {@code old} has and {@code next} does not, once {@code old} drains. */
  private void retire(Snapshot old, Snapshot next) {
    Set<Object> kept = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    for (HandlerEntry h : next.handlers().values()) {
      kept.add(h.handler());
    }
    List<HandlerEntry> replaced = new ArrayList<>();
    for (HandlerEntry h : old.handlers().values()) {
      if (!kept.contains(h.handler())) {
        replaced.add(h);
      }
    }
    AtomicInteger once = new AtomicInteger();
    Runnable close = () -> {
      if (once.getAndIncrement() == 0) {
        replaced.forEach(MixerRuntime::closeHandler);
      }
    };
    old.retire(() -> scheduler.execute(close));
    if (!replaced.isEmpty()) {
      scheduler.schedule(() -> {
        if (!old.drained()) {
          log.warn("snapshot {} still has requests after {} s; its {} replaced handler(s) are left open",
              old.version(), DRAIN_WARNING_SECONDS, replaced.size());
        }
      }, DRAIN_WARNING_SECONDS, TimeUnit.SECONDS);
    }
  }

  private static void closeHandler(HandlerEntry h) {
    try {
      h.handler().close();
    } catch (Exception e) {
      log.warn("closing handler {} failed: {}", h.fqn(), e.toString());
    } finally {
      h.env().close();
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

  /** Stops following the store and closes every handler and executor. */
  @Override
  public void close() {
    if (store != null) {
      store.close();
    }
    synchronized (applyLock) {
      Snapshot s = current.getAndSet(Snapshot.empty(options));
      s.handlers().values().forEach(MixerRuntime::closeHandler);
    }
    dispatcher.close();
    daemons.shutdownNow();
    scheduler.shutdownNow();
  }
}
