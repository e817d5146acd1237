package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Instance;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.InstanceEvaluationException;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.CompressedAttributeBag;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.Snapshot.Action;
import io.istio4j.mixer.runtime.Snapshot.HandlerEntry;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
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
  private static final Duration ZERO = Duration.getDefaultInstance();
  private static final long DRAIN_WARNING_SECONDS = 10;

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final RuntimeMetrics metrics;
  private final RegistryAdapterMetrics adapterMetrics;
  private final Clock clock;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService daemons;
  private final ThreadPoolExecutor workers;
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
    int n = options.adapterWorkerPoolSize();
    this.workers = new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(n * 16),
        named("adapter-worker"));
    this.workers.allowCoreThreadTimeOut(true);
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

  @Override
  public boolean mayBlock() {
    return current.get().hasBlockingHandlers();
  }

  // ---- Check ----

  @Override
  public CheckResponse check(DecodedCheckRequest request) {
    Snapshot s = acquire();
    try {
      return check(s, request);
    } finally {
      s.release();
    }
  }

  private CheckResponse check(Snapshot s, DecodedCheckRequest request) {
    CompressedAttributeBag bag = request.attributes();
    PreconditionResult.Builder pre = PreconditionResult.newBuilder();
    boolean ok;
    try {
      List<Action> actions = s.resolve(bag, Variety.CHECK);
      if (actions.isEmpty()) {
        pre.setStatus(com.google.rpc.Status.getDefaultInstance())
            .setValidDuration(DEFAULT_VALID_DURATION).setValidUseCount(DEFAULT_VALID_USE_COUNT);
        ok = true;
      } else {
        ok = dispatchChecks(actions, bag, pre);
      }
    } catch (ResolutionException e) {
      metrics.resolveError("Check");
      pre.setStatus(status(Status.Code.INTERNAL, e.getMessage()))
          .setValidDuration(DEFAULT_VALID_DURATION).setValidUseCount(DEFAULT_VALID_USE_COUNT);
      ok = false;
    }
    pre.setReferencedAttributes(bag.references().encode(request.globalWordCount()));
    CheckResponse.Builder response = CheckResponse.newBuilder();
    if (ok && !request.quotas().isEmpty()) {
      quotas(s, request, bag, pre, response);
    }
    return response.setPrecondition(pre).build();
  }

  private boolean dispatchChecks(List<Action> actions, AttributeBag bag, PreconditionResult.Builder pre) {
    CheckResult combined = null;
    StringBuilder messages = null;
    Status.Code firstBad = null;
    for (Action a : actions) {
      for (CompiledInstance<AttributeBag> ci : a.instances()) {
        CheckResult r = checkOne(a, ci, bag);
        combined = combined == null ? r : combined.combine(r);
        if (!r.status().isOk()) {
          if (firstBad == null) {
            firstBad = r.status().code();
            messages = new StringBuilder();
          } else {
            messages.append(", ");
          }
          messages.append(a.handler().fqn()).append(':').append(r.status().message());
        }
      }
    }
    pre.setValidDuration(duration(combined.validDuration())).setValidUseCount(combined.validUseCount());
    if (firstBad == null) {
      pre.setStatus(com.google.rpc.Status.getDefaultInstance());
      return true;
    }
    pre.setStatus(status(firstBad, messages.toString()));
    return false;
  }

  private CheckResult checkOne(Action a, CompiledInstance<AttributeBag> ci, AttributeBag bag) {
    Instance instance;
    try {
      instance = ci.build(bag);
    } catch (InstanceEvaluationException e) {
      metrics.instanceError(a.template().name());
      return failed(e.getMessage());
    }
    try {
      CheckResult r = call(a, () -> a.template().handleCheck(a.handler().handler(), instance));
      return r != null ? r : failed("handler returned no result");
    } catch (HandlerFailure e) {
      return failed(e.getMessage());
    }
  }

  /** A failed check's result under the failure policy: never cacheable. */
  private CheckResult failed(String message) {
    return options.failurePolicy() == RuntimeOptions.FailurePolicy.OPEN
        ? CheckResult.of(Status.OK, java.time.Duration.ZERO, 0)
        : CheckResult.of(Status.of(Status.Code.INTERNAL, message), java.time.Duration.ZERO, 0);
  }

  private void quotas(Snapshot s, DecodedCheckRequest request, CompressedAttributeBag bag,
      PreconditionResult.Builder pre, CheckResponse.Builder response) {
    for (Map.Entry<String, DecodedCheckRequest.QuotaParams> q : request.quotas().entrySet()) {
      bag.references().clear();
      String name = q.getKey();
      long amount = q.getValue().amount();
      CheckResponse.QuotaResult.Builder result = CheckResponse.QuotaResult.newBuilder();
      List<Action> actions;
      try {
        actions = s.resolve(bag, Variety.QUOTA);
      } catch (ResolutionException e) {
        metrics.resolveError("Quota");
        pre.setStatus(status(Status.Code.INTERNAL, e.getMessage()));
        return;
      }
      if (actions.isEmpty() || actions.get(0).instances().isEmpty()) {
        result.setGrantedAmount(amount).setValidDuration(DEFAULT_VALID_DURATION);
      } else {
        if (actions.size() > 1 || actions.get(0).instances().size() > 1) {
          log.debug("quota {}: more than one quota instance applies; the first is used, as upstream", name);
        }
        Action a = actions.get(0);
        // No id from the client means no deduplication: "" + name would make every such call a retry.
        String id = request.deduplicationId();
        QuotaArgs args = new QuotaArgs(id.isEmpty() ? "" : id + name, amount, q.getValue().bestEffort());
        QuotaResult r;
        try {
          Instance instance = a.instances().get(0).build(bag);
          r = call(a, () -> a.template().handleQuota(a.handler().handler(), instance, args));
          if (r == null) {
            throw new HandlerFailure("handler returned no result", false);
          }
        } catch (InstanceEvaluationException | HandlerFailure e) {
          if (e instanceof InstanceEvaluationException) {
            metrics.instanceError(a.template().name());
          }
          if (options.failurePolicy() == RuntimeOptions.FailurePolicy.OPEN) {
            r = new QuotaResult(Status.OK, java.time.Duration.ZERO, amount);
          } else {
            pre.setStatus(status(Status.Code.INTERNAL, a.handler().fqn() + ":" + e.getMessage()))
                .setValidDuration(ZERO).setValidUseCount(0);
            return;
          }
        }
        if (!r.status().isOk()) {
          pre.setStatus(status(r.status().code(), a.handler().fqn() + ":" + r.status().message()));
        }
        result.setGrantedAmount(r.amount()).setValidDuration(duration(r.validDuration()));
      }
      result.setReferencedAttributes(bag.references().encode(request.globalWordCount()));
      response.putQuotas(name, result.build());
    }
  }

  // ---- Report ----

  @Override
  public void report(DecodedReportRequest request) {
    Snapshot s = acquire();
    try {
      report(s, request);
    } finally {
      s.release();
    }
  }

  private void report(Snapshot s, DecodedReportRequest request) {
    List<Action> order = new ArrayList<>();
    Map<Action, List<Instance>> batches = new IdentityHashMap<>();
    request.forEachRecord(bag -> {
      List<Action> actions;
      try {
        actions = s.resolve(bag, Variety.REPORT);
      } catch (ResolutionException e) {
        metrics.resolveError("Report");
        throw e;
      }
      for (Action a : actions) {
        List<Instance> batch = batches.get(a);
        for (CompiledInstance<AttributeBag> ci : a.instances()) {
          try {
            Instance instance = ci.build(bag);
            if (batch == null) {
              batch = new ArrayList<>();
              batches.put(a, batch);
              order.add(a);
            }
            batch.add(instance);
          } catch (InstanceEvaluationException e) {
            metrics.instanceError(a.template().name());
            log.debug("Report: {}", e.getMessage());
          }
        }
      }
    });
    StringBuilder failures = null;
    for (Action a : order) {
      List<Instance> batch = batches.get(a);
      try {
        call(a, () -> {
          a.template().handleReport(a.handler().handler(), batch);
          return Boolean.TRUE;
        });
      } catch (HandlerFailure e) {
        failures = failures == null ? new StringBuilder() : failures.append(", ");
        failures.append(a.handler().fqn()).append(':').append(e.getMessage());
      }
    }
    if (failures != null) {
      throw new IllegalStateException(failures.toString());
    }
  }

  // ---- calling handlers ----

  /** A handler call that threw, was refused or missed its deadline. */
  static final class HandlerFailure extends Exception {
    private static final long serialVersionUID = 1L;
    final boolean timeout;

    HandlerFailure(String message, boolean timeout) {
      super(message, null, false, false);
      this.timeout = timeout;
    }
  }

  /**
   * Calls a handler: inline for in-memory adapters, on the worker pool with the deadline for
   * blocking ones. Counts and times the call.
   */
  private <T> T call(Action a, Supplier<T> work) throws HandlerFailure {
    RuntimeMetrics.Stats stats = a.stats();
    long start = System.nanoTime();
    try {
      T result;
      if (!a.handler().adapter().blocking()) {
        try {
          result = work.get();
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
          throw new HandlerFailure(describe(e), false);
        }
      } else {
        Future<T> f;
        try {
          f = workers.submit(work::get);
        } catch (RejectedExecutionException e) {
          throw new HandlerFailure("adapter worker pool is full (" + options.adapterWorkerPoolSize() + " threads)",
              false);
        }
        try {
          result = f.get(options.handlerTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          f.cancel(true);
          throw new HandlerFailure("no answer within " + options.handlerTimeout().toMillis() + " ms", true);
        } catch (ExecutionException e) {
          throw new HandlerFailure(describe(e.getCause()), false);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          f.cancel(true);
          throw new HandlerFailure("interrupted", false);
        }
      }
      stats.ok.inc();
      return result;
    } catch (HandlerFailure e) {
      (e.timeout ? stats.timeout : stats.error).inc();
      log.debug("handler {} failed: {}", a.handler().fqn(), e.getMessage());
      throw e;
    } finally {
      stats.seconds.observe((System.nanoTime() - start) / 1e9);
    }
  }

  private static String describe(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static com.google.rpc.Status status(Status.Code code, String message) {
    return com.google.rpc.Status.newBuilder().setCode(code.number()).setMessage(message).build();
  }

  private static Duration duration(java.time.Duration d) {
    return d.isZero() ? ZERO : Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
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
    workers.shutdownNow();
    daemons.shutdownNow();
    scheduler.shutdownNow();
  }
}
