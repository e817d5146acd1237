package io.istio4j.mixer.runtime;

import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.Template;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.AttributeName;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.runtime.config.ConfigObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One immutable, fully resolved config: attribute manifest, rules with compiled matches and
 * resolved actions, built handlers, and the state of every object. Requests read it without locks;
 * a config change builds a new one and swaps it in. A request holds the snapshot it started with
 * ({@link #tryAcquire()} / {@link #release()}) so that replaced handlers close only after it ends.
 */
public final class Snapshot {

  private static final AttributeName CONTEXT_PROTOCOL = AttributeName.of("context.protocol");
  private static final Rule[] NO_RULES = new Rule[0];

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
   */
  public record Action(HandlerEntry handler, Template template, List<CompiledInstance<AttributeBag>> instances,
      RuntimeMetrics.Stats stats) {}

  /**
   * A config object in use (its last good version when a later edit was rejected): what the next
   * build falls back to when that object's next version is rejected.
   *
   * @param object the object
   * @param since the snapshot version in which this version went live
   */
  record Good(ConfigObject object, long since) {}

  /** A rule, resolved: its actions split by variety. */
  record Rule(String fqn, Expression match, boolean tcp, List<Action> check, List<Action> report, List<Action> quota) {
    List<Action> actions(Variety v) {
      switch (v) {
        case CHECK:
          return check;
        case REPORT:
          return report;
        case QUOTA:
          return quota;
        default:
          return List.of();
      }
    }
  }

  private final long version;
  private final Map<String, ValueType> manifest;
  private final AttributeName identity;
  private final String identityName;
  private final String defaultNamespace;
  private final Rule[] defaultRules;
  private final Map<String, Rule[]> rulesByNamespace;
  private final Map<String, HandlerEntry> handlers;
  private final List<ObjectStatus> statuses;
  private final Map<String, Good> good;
  private final Set<String> retryable;
  private final boolean[] hasRules = new boolean[Variety.values().length];
  private final boolean blocking;
  private final AtomicInteger holds = new AtomicInteger(1);
  private volatile Runnable onDrained;

  Snapshot(long version, Map<String, ValueType> manifest, RuntimeOptions options,
      Map<String, Rule[]> rulesByNamespace, Map<String, HandlerEntry> handlers, List<ObjectStatus> statuses,
      Map<String, Good> good, Set<String> retryable) {
    this.version = version;
    this.manifest = Map.copyOf(manifest);
    this.identityName = options.identityAttribute();
    this.identity = AttributeName.of(options.identityAttribute());
    this.defaultNamespace = options.defaultNamespace();
    this.defaultRules = rulesByNamespace.getOrDefault(defaultNamespace, NO_RULES);
    this.rulesByNamespace = Map.copyOf(rulesByNamespace);
    this.handlers = Collections.unmodifiableMap(handlers);
    this.statuses = List.copyOf(statuses);
    this.good = Map.copyOf(good);
    this.retryable = Set.copyOf(retryable);
    this.blocking = handlers.values().stream().anyMatch(h -> h.adapter().blocking());
    for (Rule[] rules : rulesByNamespace.values()) {
      for (Rule r : rules) {
        for (Variety v : Variety.values()) {
          hasRules[v.ordinal()] |= !r.actions(v).isEmpty();
        }
      }
    }
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

  /** True when a handler of a blocking adapter is in use. */
  public boolean hasBlockingHandlers() {
    return blocking;
  }

  /** Number of rules in use. */
  public int ruleCount() {
    int n = 0;
    for (Rule[] rules : rulesByNamespace.values()) {
      n += rules.length;
    }
    return n;
  }

  /**
   * The actions of {@code variety} that apply to a request: the rules of the default namespace and
   * of the identity attribute's namespace, of the request's protocol, whose match is true.
   *
   * @throws ResolutionException when the identity attribute is missing or a match fails
   */
  public List<Action> resolve(AttributeBag bag, Variety variety) {
    if (!hasRules[variety.ordinal()]) {
      return List.of(); // nothing of this variety is configured anywhere: no identity needed
    }
    Object id = bag.get(identity);
    if (id == null) {
      throw new ResolutionException(identityName + " identity not found in attributes"
          + new TreeSet<>(bag.names()).toString().replace(",", ""));
    }
    if (!(id instanceof String)) {
      throw new ResolutionException(identityName + " identity must be a string, got " + id.getClass().getSimpleName());
    }
    boolean tcp = "tcp".equals(bag.get(CONTEXT_PROTOCOL));
    List<Action> actions = null;
    actions = collect(defaultRules, bag, variety, tcp, actions);
    Rule[] own = namespaceRules((String) id);
    if (own != defaultRules) {
      actions = collect(own, bag, variety, tcp, actions);
    }
    return actions == null ? List.of() : actions;
  }

  private Rule[] namespaceRules(String id) {
    int first = id.indexOf('.');
    if (first < 0) {
      return NO_RULES;
    }
    int second = id.indexOf('.', first + 1);
    int end = second < 0 ? id.length() : second;
    int len = end - first - 1;
    if (defaultNamespace.length() == len && id.regionMatches(first + 1, defaultNamespace, 0, len)) {
      return defaultRules;
    }
    Rule[] rules = rulesByNamespace.get(id.substring(first + 1, end));
    return rules == null ? NO_RULES : rules;
  }

  private static List<Action> collect(Rule[] rules, AttributeBag bag, Variety variety, boolean tcp,
      List<Action> into) {
    for (Rule r : rules) {
      List<Action> actions = r.actions(variety);
      if (actions.isEmpty() || r.tcp != tcp) {
        continue; // upstream does not even evaluate the match of a rule with nothing to do
      }
      if (r.match != null) {
        boolean matched;
        try {
          matched = r.match.evaluateBoolean(bag);
        } catch (RuntimeException e) {
          throw new ResolutionException("rule " + r.fqn + ": match failed: " + e.getMessage());
        }
        if (!matched) {
          continue;
        }
      }
      if (into == null) {
        into = new ArrayList<>(4);
      }
      into.addAll(actions);
    }
    return into;
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
