package io.istio4j.mixer.runtime;

import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.Template;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.runtime.config.ConfigObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One immutable, fully resolved config: attribute manifest, rules with compiled matches and
 * resolved actions, built handlers, and the state of every object. Requests read it without locks;
 * a config change builds a new one and swaps it in. A request holds the snapshot it started with
 * ({@link #tryAcquire()} / {@link #release()}) so that replaced handlers close only after it ends.
 */
public final class Snapshot {

  /**
   * A built handler.
   *
   * @param fqn the handler's fully qualified name
   * @param adapter its adapter
   * @param handler the handler
   * @param env its environment, closed with it
   * @param key what it was built from; an equal key in the next config reuses the handler
   */
  public record HandlerEntry(String fqn, AdapterInfo adapter, Handler handler, HandlerEnv env, Object key) {}

  /**
   * Instances of one template sent to one handler.
   *
   * @param handler the handler
   * @param template the template
   * @param instances the compiled instances
   * @param stats where its dispatches are counted
   * @param mode how the handler is called, decided here once so that every request using this
   *     snapshot calls it the same way
   * @param spanName the name of this action's handler-call spans, {@code <template>:<handler
   *     FQN>(<adapter>)} as upstream's, built once rather than per traced call
   */
  public record Action(HandlerEntry handler, Template template, List<CompiledInstance<AttributeBag>> instances,
      RuntimeMetrics.Stats stats, Dispatcher.Mode mode, String spanName) {

    /** An action called in {@code mode}. */
    public Action(HandlerEntry handler, Template template, List<CompiledInstance<AttributeBag>> instances,
        RuntimeMetrics.Stats stats, Dispatcher.Mode mode) {
      this(handler, template, instances, stats, mode,
          template.name() + ":" + handler.fqn() + "(" + handler.adapter().name() + ")");
    }

    /** An action whose mode follows from its handler: asynchronous, blocking or in-memory. */
    public Action(HandlerEntry handler, Template template, List<CompiledInstance<AttributeBag>> instances,
        RuntimeMetrics.Stats stats) {
      this(handler, template, instances, stats, template.isAsync(handler.handler()) ? Dispatcher.Mode.ASYNC
          : handler.adapter().blocking() ? Dispatcher.Mode.BLOCKING : Dispatcher.Mode.INLINE);
    }
  }

  /**
   * A config object in use (its last good version when a later edit was rejected): what the next
   * build falls back to when that object's next version is rejected.
   *
   * @param object the object
   * @param since the snapshot version in which this version went live
   */
  record Good(ConfigObject object, long since) {}

  private final long version;
  private final Map<String, ValueType> manifest;
  private final Resolver resolver;
  private final int ruleCount;
  private final Map<String, HandlerEntry> handlers;
  private final List<ObjectStatus> statuses;
  private final Map<String, Good> good;
  private final Set<String> retryable;
  private final AtomicInteger holds = new AtomicInteger(1);
  private volatile Runnable onDrained;

  Snapshot(long version, Map<String, ValueType> manifest, RuntimeOptions options,
      Map<String, Resolver.Rule[]> rulesByNamespace, Map<String, HandlerEntry> handlers, List<ObjectStatus> statuses,
      Map<String, Good> good, Set<String> retryable) {
    this.version = version;
    this.manifest = Map.copyOf(manifest);
    this.resolver = new Resolver(options, rulesByNamespace);
    this.handlers = Collections.unmodifiableMap(handlers);
    this.statuses = List.copyOf(statuses);
    this.good = Map.copyOf(good);
    this.retryable = Set.copyOf(retryable);
    int n = 0;
    for (Resolver.Rule[] rules : rulesByNamespace.values()) {
      n += rules.length;
    }
    this.ruleCount = n;
  }

  /** An empty snapshot: no rules, so every Check gets upstream's defaults. */
  static Snapshot empty(RuntimeOptions options) {
    return new Snapshot(0, Map.of(), options, Map.of(), Map.of(), List.of(), Map.of(), Set.of());
  }

  /** The config version: 1 for the first config loaded, one more for every change applied. */
  public long version() {
    return version;
  }

  /** The merged attribute manifest. */
  public Map<String, ValueType> manifest() {
    return manifest;
  }

  /** The built handlers by FQN. */
  public Map<String, HandlerEntry> handlers() {
    return handlers;
  }

  /** Every object's state. */
  public List<ObjectStatus> statuses() {
    return statuses;
  }

  /** The objects in use by FQN, each the version that went live last. */
  Map<String, Good> good() {
    return good;
  }

  /** Handlers rejected for a reason that may pass (their build failed): worth building again later. */
  Set<String> retryable() {
    return retryable;
  }

  /** The statuses of rejected objects and rejected edits ({@link ObjectStatus#isRejection()}). */
  public List<ObjectStatus> rejections() {
    List<ObjectStatus> out = new ArrayList<>();
    for (ObjectStatus s : statuses) {
      if (s.isRejection()) {
        out.add(s);
      }
    }
    return out;
  }

  /** Number of rules in use. */
  public int ruleCount() {
    return ruleCount;
  }

  /**
   * The actions of {@code variety} that apply to a request; see {@link Resolver}.
   *
   * @throws ResolutionException when the identity attribute is missing or a match fails
   */
  public List<Action> resolve(AttributeBag bag, Variety variety) {
    return resolver.resolve(bag, variety);
  }

  // ---- draining ----

  /** Holds the snapshot for one request; false once it has been replaced and drained. */
  boolean tryAcquire() {
    for (;;) {
      int n = holds.get();
      if (n == 0) {
        return false;
      }
      if (holds.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Ends a request's hold. */
  void release() {
    if (holds.decrementAndGet() == 0) {
      Runnable r = onDrained;
      if (r != null) {
        r.run();
      }
    }
  }

  /** Marks the snapshot replaced; {@code drained} runs once no request holds it. */
  void retire(Runnable drained) {
    this.onDrained = drained;
    release();
  }

  /** True once retired and no request holds it any more. */
  boolean drained() {
    return holds.get() == 0;
  }
}
