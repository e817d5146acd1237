package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Message;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.HandlerBuilder;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.template.CompiledInstance;
import io.istio4j.adapter.template.InstanceConfigException;
import io.istio4j.adapter.template.Template;
import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.expr.ExpressionCompiler;
import io.istio4j.mixer.expr.ExpressionException;
import io.istio4j.mixer.runtime.Snapshot.Action;
import io.istio4j.mixer.runtime.Snapshot.HandlerEntry;
import io.istio4j.mixer.runtime.config.ConfigObject;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a store's content into a {@link Snapshot}: merges the attribute manifests, compiles every
 * instance against them, parses handler configs, resolves rule references, builds the handlers the
 * rules use (reusing those whose config and instance types did not change), and records the state
 * of every object. An invalid object is rejected on its own, with its field and reason; whatever
 * depends on it is rejected with a message saying so; the rest applies.
 *
 * <p><b>Last known good, per object.</b> When an object that is live in the previous snapshot is
 * rejected in its new version (or its handler fails to build, or its file no longer parses, or its
 * document no longer reads), its previous version stays in use and the object is reported {@link
 * ObjectStatus.State#STALE}: a typo in a deny rule keeps the rule denying, and a rule whose handler's
 * edit is rejected keeps using the handler's previous version. The build runs again with the
 * previous versions standing in until nothing more falls back (each object falls back at most
 * once). A new object that is invalid is not applied; a deleted object goes away.
 *
 * <p>Whatever one object throws while it is checked or built ({@link StackOverflowError} from a
 * deeply nested expression, {@link OutOfMemoryError}, an adapter's exception) rejects that object
 * alone; the build goes on.
 *
 * <pre>{@code
 * SnapshotBuilder validator = SnapshotBuilder.forValidation(templates, adapters, options);
 * Snapshot checked = validator.build(store.read(), null, 1);
 * }</pre>
 */
public final class SnapshotBuilder {

  private static final Logger log = LoggerFactory.getLogger(SnapshotBuilder.class);
  static final String RULE = "rule";
  static final String MANIFEST = "attributemanifest";
  private static final Set<String> RULE_FIELDS = Set.of("match", "selector", "actions");
  private static final Set<String> ACTION_FIELDS = Set.of("handler", "instances", "name");
  private static final Set<String> MANIFEST_FIELDS = Set.of("revision", "name", "attributes");

  /** What happens to handler configs. */
  private enum Mode {
    /** Handlers are built: a serving Mixer. */
    BUILD,
    /** Handler configs are parsed and validated, never built (no ports, no network): {@code mixs validate}. */
    VALIDATE
  }

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final HandlerFactory factory;
  private final BiFunction<AdapterInfo, String, HandlerEnv> envs;
  private final Mode mode;
  private final RuntimeMetrics metrics;
  private final Consumer<List<HandlerEntry>> closer;

  private SnapshotBuilder(Templates templates, Adapters adapters, RuntimeOptions options,
      BiFunction<AdapterInfo, String, HandlerEnv> envs, Mode mode, RuntimeMetrics metrics,
      Consumer<List<HandlerEntry>> closer) {
    this.templates = requireNonNull(templates, "templates");
    this.adapters = requireNonNull(adapters, "adapters");
    this.options = requireNonNull(options, "options");
    this.factory = new HandlerFactory(templates);
    this.envs = envs;
    this.mode = mode;
    this.metrics = requireNonNull(metrics, "metrics");
    this.closer = requireNonNull(closer, "closer");
  }

  /**
   * A builder for a serving Mixer: handlers are built.
   *
   * @param envs makes the Env of a new handler from its adapter and FQN
   * @param metrics where dispatches of the snapshot's actions are counted
   * @param closer closes the handlers a build made and does not use (an exception stopped the
   *     build, or a later pass of it built them again); it must not block the build for long, so
   *     a serving Mixer hands them to its close thread
   */
  public static SnapshotBuilder forServing(Templates templates, Adapters adapters, RuntimeOptions options,
      BiFunction<AdapterInfo, String, HandlerEnv> envs, RuntimeMetrics metrics,
      Consumer<List<HandlerEntry>> closer) {
    return new SnapshotBuilder(templates, adapters, options, requireNonNull(envs, "envs"), Mode.BUILD, metrics,
        closer);
  }

  /**
   * A builder that only validates: handler configs are parsed and validated by their adapters but
   * never built, so nothing binds a port or touches the network ({@code mixs validate}).
   */
  public static SnapshotBuilder forValidation(Templates templates, Adapters adapters, RuntimeOptions options) {
    return new SnapshotBuilder(templates, adapters, options, null, Mode.VALIDATE,
        new RuntimeMetrics(new PrometheusRegistry()), unused -> { }); // validation builds no handler
  }

  /** The key of a built handler: equal keys mean the handler can be reused as it is. */
  private record HandlerKey(String adapter, Message config, Map<String, Map<String, Object>> types) {}

  /** A rule whose references all resolved, before its handlers are built. */
  private record PendingRule(ConfigObject object, Expression match, boolean tcp, List<PendingAction> actions) {}

  private record PendingAction(int index, String handler, Template template, List<String> instances) {}

  /** Everything one build works on. */
  private final class Build {
    final Map<String, ObjectStatus> statuses = new TreeMap<>();
    final Map<String, ConfigObject> objects = new TreeMap<>();
    final Map<String, ValueType> manifest = new TreeMap<>();
    final Map<String, CompiledInstance<AttributeBag>> instances = new HashMap<>();
    final Map<String, Template> instanceTemplates = new HashMap<>();
    final Map<String, Message> handlerConfigs = new HashMap<>();
    final Map<String, HandlerEntry> built = new TreeMap<>();
    final Set<String> used = new HashSet<>();

    void reject(ConfigObject o, String field, String error) {
      statuses.put(o.fqn(), ObjectStatus.rejected(o.fqn(), o.kind(), o.source(), field, error));
    }

    /** Runs one object's step; whatever it throws rejects that object alone. */
    void guarded(ConfigObject o, String step, Runnable work) {
      try {
        work.run();
      } catch (Throwable e) { // NOPMD: StackOverflowError, OutOfMemoryError too: one object must not stop the build
        failed(this, o, step, e);
      }
    }

    boolean rejected(String fqn) {
      ObjectStatus s = statuses.get(fqn);
      return s != null && s.state() == ObjectStatus.State.REJECTED;
    }
  }

  /** Handlers built (or failed to build) during one {@link #build}, across its passes. */
  private static final class Attempts {
    final Map<String, Attempt> byFqn = new HashMap<>();
    final List<HandlerEntry> built = new ArrayList<>();
    final Set<String> retryable = new HashSet<>();
  }

  /** One handler build: the entry, or the failure. */
  private record Attempt(HandlerKey key, HandlerEntry entry, HandlerBuildException failure) {}

  /**
   * Builds the snapshot of {@code content}.
   *
   * @param previous the snapshot in use, whose unchanged handlers are reused and whose objects'
   *     versions stand in for rejected edits; null for none
   */
  public Snapshot build(ConfigStore.Content content, Snapshot previous, long version) {
    Map<String, Snapshot.Good> before = previous == null ? Map.of() : previous.good();
    Set<String> fresh = new HashSet<>();
    for (ConfigObject o : content.objects()) {
      fresh.add(o.fqn());
    }
    // Last good versions standing in for new ones, and the rejection each stands in for.
    Map<String, ConfigObject> standIns = new TreeMap<>();
    Map<String, ObjectStatus> causes = new HashMap<>();
    for (ConfigStore.Problem p : content.problems()) {
      Snapshot.Good g = p.fqn().isEmpty() || fresh.contains(p.fqn()) ? null : before.get(p.fqn());
      if (g != null) { // a document that no longer reads: its object's last good version stays
        standIns.put(p.fqn(), g.object());
        causes.put(p.fqn(), ObjectStatus.rejected(p.fqn(), g.object().kind(), p.source(), "", p.message()));
      }
    }
    for (Snapshot.Good g : before.values()) {
      ConfigObject o = g.object();
      if (!fresh.contains(o.fqn()) && !standIns.containsKey(o.fqn()) && content.unreadableFiles().contains(o.file())) {
        // A file that no longer reads (a YAML syntax error) does not drop the objects it held.
        standIns.put(o.fqn(), o);
        causes.put(o.fqn(), ObjectStatus.rejected(o.fqn(), o.kind(), o.file(), "", fileProblem(content, o.file())));
      }
    }
    Attempts attempts = new Attempts();
    try {
      for (;;) {
        Build b = new Build();
        List<PendingRule> pending = resolve(b, content, standIns, causes);
        if (fallBack(b, before, standIns, causes)) {
          continue;
        }
        buildHandlers(b, pending, previous, attempts);
        Map<String, List<Resolver.Rule>> byNamespace = new TreeMap<>();
        for (PendingRule r : pending) {
          b.guarded(r.object(), "resolving its actions", () -> {
            Resolver.Rule rule = finish(b, r);
            if (rule != null) {
              byNamespace.computeIfAbsent(r.object().namespace(), k -> new ArrayList<>()).add(rule);
            }
          });
        }
        if (fallBack(b, before, standIns, causes)) {
          continue;
        }
        Snapshot next = snapshot(b, byNamespace, before, causes, attempts, version);
        closeUnused(attempts, next);
        return next;
      }
    } catch (Throwable e) {
      // Nothing of this build goes live: close what it opened, and let the caller keep the old snapshot.
      closeUnused(attempts, previous);
      throw e;
    }
  }

  private static String fileProblem(ConfigStore.Content content, String file) {
    for (ConfigStore.Problem p : content.problems()) {
      if (p.source().equals(file)) {
        return p.message();
      }
    }
    return "the file could not be read";
  }

  /**
   * Marks the rejected objects that have a last good version of other content to stand in for
   * them; true when there is any, and the build must run again.
   */
  private static boolean fallBack(Build b, Map<String, Snapshot.Good> before, Map<String, ConfigObject> standIns,
      Map<String, ObjectStatus> causes) {
    boolean more = false;
    for (ConfigObject o : b.objects.values()) {
      String fqn = o.fqn();
      Snapshot.Good g = before.get(fqn);
      if (b.rejected(fqn) && !standIns.containsKey(fqn) && g != null && !g.object().sameContent(o)) {
        standIns.put(fqn, g.object());
        causes.put(fqn, b.statuses.get(fqn));
        more = true;
      }
    }
    return more;
  }

  /** Checks every object except handlers being built: manifests, instances, handler configs, rules. */
  private List<PendingRule> resolve(Build b, ConfigStore.Content content, Map<String, ConfigObject> standIns,
      Map<String, ObjectStatus> causes) {
    for (ConfigStore.Problem p : content.problems()) {
      ObjectStatus cause = p.fqn().isEmpty() ? null : causes.get(p.fqn());
      if (cause == null || !cause.source().equals(p.source())) { // else reported as the object's rejected edit
        b.statuses.put(p.source(), ObjectStatus.rejected(p.source(), "", p.source(), "", p.message()));
      }
    }
    List<ConfigObject> sorted = new ArrayList<>(content.objects());
    sorted.sort(Comparator.comparing(ConfigObject::fqn));
    for (ConfigObject o : sorted) {
      ConfigObject first = b.objects.putIfAbsent(o.fqn(), o);
      if (first != null) {
        b.statuses.put(o.fqn() + " (" + o.source() + ")", ObjectStatus.rejected(o.fqn(), o.kind(), o.source(),
            "metadata.name", "defined twice; the definition in " + first.source() + " is used"));
      }
    }
    b.objects.putAll(standIns);
    for (ConfigObject o : b.objects.values()) {
      if (o.kind().equals(MANIFEST)) {
        b.guarded(o, "reading the manifest", () -> manifest(b, o));
      } else if (!o.kind().equals(RULE) && templates.get(o.kind()).isEmpty() && adapters.get(o.kind()).isEmpty()) {
        b.reject(o, "kind", "unknown kind '" + o.kind() + "': no adapter or template of that name in this build"
            + " (mixs inventory lists them)");
      }
    }
    ExpressionCompiler compiler = ExpressionCompiler.of(b.manifest);
    ExpressionFieldCompiler fields = new ExpressionFieldCompiler(compiler);
    for (ConfigObject o : b.objects.values()) {
      templates.get(o.kind()).ifPresent(t -> b.guarded(o, "compiling the instance", () -> instance(b, o, t, fields)));
      adapters.get(o.kind()).ifPresent(a -> b.guarded(o, "reading the handler config", () -> handlerConfig(b, o, a)));
    }
    List<PendingRule> pending = new ArrayList<>();
    for (ConfigObject o : b.objects.values()) {
      if (o.kind().equals(RULE)) {
        b.guarded(o, "compiling the rule", () -> {
          PendingRule r = rule(b, o, compiler);
          if (r != null) {
            pending.add(r);
          }
        });
      }
    }
    return pending;
  }

  /** The snapshot of a finished build: every object's final state, and the versions now in use. */
  private Snapshot snapshot(Build b, Map<String, List<Resolver.Rule>> byNamespace, Map<String, Snapshot.Good> before,
      Map<String, ObjectStatus> causes, Attempts attempts, long version) {
    Map<String, Snapshot.Good> good = new HashMap<>();
    for (ConfigObject o : b.objects.values()) {
      String fqn = o.fqn();
      ObjectStatus own = b.statuses.get(fqn);
      ObjectStatus cause = causes.get(fqn);
      if (own != null && own.state() == ObjectStatus.State.REJECTED) {
        if (cause != null) { // the edit was rejected and the last good version no longer applies either
          b.statuses.put(fqn, ObjectStatus.rejected(fqn, o.kind(), cause.source(), cause.field(), cause.error()
              + " (its last good version, from " + o.source() + ", no longer applies either: "
              + (own.field().isEmpty() ? "" : own.field() + ": ") + own.error() + ")"));
        }
        continue;
      }
      Snapshot.Good g = before.get(fqn);
      long since = g != null && g.object().sameContent(o) ? g.since() : version;
      good.put(fqn, new Snapshot.Good(o, since));
      boolean active = o.kind().equals(RULE) || o.kind().equals(MANIFEST) || b.used.contains(fqn);
      ObjectStatus.State state = active ? ObjectStatus.State.ACTIVE : ObjectStatus.State.UNUSED;
      b.statuses.put(fqn, cause == null
          ? new ObjectStatus(fqn, o.kind(), o.source(), state, "", "")
          : new ObjectStatus(fqn, o.kind(), cause.source(), ObjectStatus.State.STALE, cause.field(), cause.error(),
              new ObjectStatus.Live(o.source(), since, state)));
    }
    Set<String> retryable = new HashSet<>();
    for (String fqn : attempts.retryable) {
      ObjectStatus s = b.statuses.get(fqn);
      if (s != null && s.isRejection()) {
        retryable.add(fqn);
      }
    }
    Map<String, Resolver.Rule[]> rules = new HashMap<>();
    byNamespace.forEach((ns, list) -> rules.put(ns, list.toArray(new Resolver.Rule[0])));
    return new Snapshot(version, b.manifest, options, rules, b.built, new ArrayList<>(b.statuses.values()), good,
        retryable);
  }

  /** Hands the handlers this build made that {@code kept} does not use to the closer. */
  private void closeUnused(Attempts attempts, Snapshot kept) {
    Set<Object> inUse = Collections.newSetFromMap(new IdentityHashMap<>());
    if (kept != null) {
      kept.handlers().values().forEach(h -> inUse.add(h.handler()));
    }
    List<HandlerEntry> unused = new ArrayList<>();
    for (HandlerEntry h : attempts.built) {
      if (!inUse.contains(h.handler())) {
        unused.add(h);
      }
    }
    if (!unused.isEmpty()) {
      closer.accept(unused);
    }
  }

  /** Rejects {@code o} because checking or building it threw; counted and logged. */
  private void failed(Build b, ConfigObject o, String step, Throwable e) {
    metrics.configError(o.kind());
    String what = describe(e);
    b.reject(o, "", step + " failed: " + what);
    if (e instanceof StackOverflowError) { // its trace is a thousand identical frames
      log.error("config object {} ({}): {} failed: {}", o.fqn(), o.source(), step, what);
    } else {
      log.error("config object {} ({}): {} failed: {}", o.fqn(), o.source(), step, what, e);
    }
  }

  static String describe(Throwable e) {
    if (e instanceof StackOverflowError) {
      return "StackOverflowError: nested too deeply (an expression or a spec); simplify it";
    }
    if (e instanceof OutOfMemoryError) {
      return "OutOfMemoryError: too large (" + e.getMessage() + ")";
    }
    return e.toString();
  }

  // ---- attribute manifests ----

  @SuppressWarnings("unchecked")
  private void manifest(Build b, ConfigObject o) {
    for (String key : o.spec().keySet()) {
      if (!MANIFEST_FIELDS.contains(key)) {
        b.reject(o, "spec." + key, "unknown field (expected: revision, name, attributes)");
        return;
      }
    }
    Object attrs = o.spec().getOrDefault("attributes", Map.of());
    if (!(attrs instanceof Map)) {
      b.reject(o, "spec.attributes", "must be a map of attribute name to {valueType, description}");
      return;
    }
    Map<String, ValueType> mine = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : ((Map<String, Object>) attrs).entrySet()) {
      String field = "spec.attributes." + e.getKey();
      Object info = e.getValue() == null ? Map.of() : e.getValue();
      if (!(info instanceof Map)) {
        b.reject(o, field, "must be a map with valueType and description");
        return;
      }
      Object vt = ((Map<String, Object>) info).getOrDefault("valueType",
          ((Map<String, Object>) info).get("value_type"));
      ValueType type;
      try {
        type = vt == null ? ValueType.VALUE_TYPE_UNSPECIFIED : ValueType.valueOf(vt.toString());
      } catch (IllegalArgumentException ex) {
        b.reject(o, field + ".valueType", "unknown value type '" + vt + "'");
        return;
      }
      if (type == ValueType.VALUE_TYPE_UNSPECIFIED) {
        b.reject(o, field + ".valueType", "required: one of STRING, INT64, DOUBLE, BOOL, TIMESTAMP, "
            + "IP_ADDRESS, EMAIL_ADDRESS, URI, DNS_NAME, DURATION, STRING_MAP");
        return;
      }
      ValueType before = b.manifest.get(e.getKey());
      if (before != null && before != type) {
        b.reject(o, field + ".valueType", "declared " + type + " here but " + before + " by another manifest");
        return;
      }
      mine.put(e.getKey(), type);
    }
    b.manifest.putAll(mine);
  }

  // ---- instances and handler configs ----

  private void instance(Build b, ConfigObject o, Template t, ExpressionFieldCompiler fields) {
    try {
      Message param = SpecParser.parse(o.spec(), t.defaultParam());
      b.instances.put(o.fqn(), t.compile(o.fqn(), param, fields));
      b.instanceTemplates.put(o.fqn(), t);
    } catch (SpecParser.SpecException e) {
      b.reject(o, specField(e.field()), e.problem());
    } catch (InstanceConfigException e) {
      b.reject(o, "spec." + e.field(), e.getMessage());
    }
  }

  private void handlerConfig(Build b, ConfigObject o, AdapterInfo a) {
    try {
      b.handlerConfigs.put(o.fqn(), SpecParser.parse(o.spec(), a.defaultConfig()));
    } catch (SpecParser.SpecException e) {
      b.reject(o, specField(e.field()), e.problem());
    }
  }

  /** {@code spec.<path>} for a path inside a spec ({@code quotas[0].name}); {@code spec} for none. */
  static String specField(String path) {
    return path.isEmpty() ? "spec" : "spec." + path;
  }

  // ---- rules ----

  /** A reference in a rule: an FQN when it has exactly three parts, else completed with the namespace. */
  static String reference(String ref, String namespace) {
    int dots = 0;
    for (int i = 0; i < ref.length(); i++) {
      if (ref.charAt(i) == '.') {
        dots++;
      }
    }
    return dots == 2 ? ref : ref + "." + namespace;
  }

  @SuppressWarnings("unchecked")
  private PendingRule rule(Build b, ConfigObject o, ExpressionCompiler compiler) {
    Map<String, Object> spec = o.spec();
    for (String key : spec.keySet()) {
      if (!RULE_FIELDS.contains(key)) {
        b.reject(o, "spec." + key, "unknown field (expected: match, actions)");
        return null;
      }
    }
    Object m = spec.containsKey("match") ? spec.get("match") : spec.get("selector");
    if (spec.containsKey("selector") && !spec.containsKey("match")) {
      log.warn("rule {}: 'selector' is deprecated; use 'match'", o.fqn());
    }
    if (m != null && !(m instanceof String)) {
      b.reject(o, "spec.match", "must be a string expression");
      return null;
    }
    String matchText = m == null ? "" : ((String) m).trim();
    Expression match = null;
    if (!matchText.isEmpty()) {
      try {
        match = compiler.compile(matchText);
      } catch (ExpressionException e) {
        b.reject(o, "spec.match", e.getMessage());
        return null;
      }
      if (match.type() != ValueType.BOOL) {
        b.reject(o, "spec.match", "expression '" + matchText + "' has type " + match.type() + ", must be BOOL");
        return null;
      }
    }
    boolean tcp = "tcp".equals(o.labels().get("istio-protocol"))
        || (!matchText.isEmpty() && ExpressionCompiler.hasEqualityConjunct(matchText, "context.protocol", "tcp"));
    Object actionsValue = spec.getOrDefault("actions", List.of());
    if (!(actionsValue instanceof List)) {
      b.reject(o, "spec.actions", "must be a list of {handler, instances}");
      return null;
    }
    List<PendingAction> actions = new ArrayList<>();
    List<Object> list = (List<Object>) actionsValue;
    for (int i = 0; i < list.size(); i++) {
      String field = "spec.actions[" + i + "]";
      if (!(list.get(i) instanceof Map)) {
        b.reject(o, field, "must be a map with handler and instances");
        return null;
      }
      Map<String, Object> action = (Map<String, Object>) list.get(i);
      for (String key : action.keySet()) {
        if (!ACTION_FIELDS.contains(key)) {
          b.reject(o, field + "." + key, "unknown field (expected: handler, instances)");
          return null;
        }
      }
      if (!(action.get("handler") instanceof String)) {
        b.reject(o, field + ".handler", "required: a handler reference such as handler.denier");
        return null;
      }
      String handler = reference((String) action.get("handler"), o.namespace());
      String problem = referenceProblem(b, handler, "handler");
      if (problem != null) {
        b.reject(o, field + ".handler", problem);
        return null;
      }
      AdapterInfo adapter = adapters.get(b.objects.get(handler).kind()).orElseThrow();
      Object instancesValue = action.getOrDefault("instances", List.of());
      if (!(instancesValue instanceof List) || ((List<Object>) instancesValue).isEmpty()) {
        b.reject(o, field + ".instances", "required: a list of instance references");
        return null;
      }
      Map<Template, List<String>> byTemplate = new LinkedHashMap<>();
      List<Object> refs = (List<Object>) instancesValue;
      for (int j = 0; j < refs.size(); j++) {
        String ifield = field + ".instances[" + j + "]";
        if (!(refs.get(j) instanceof String)) {
          b.reject(o, ifield, "must be an instance reference such as requestcount.metric");
          return null;
        }
        String instance = reference((String) refs.get(j), o.namespace());
        String iproblem = referenceProblem(b, instance, "instance");
        if (iproblem != null) {
          b.reject(o, ifield, iproblem);
          return null;
        }
        Template t = b.instanceTemplates.get(instance);
        if (!adapter.supportedTemplates().contains(t.name())) {
          b.reject(o, ifield, "instance '" + instance + "' is a " + t.name() + "; adapter '" + adapter.name()
              + "' of handler '" + handler + "' does not support that template (it supports "
              + String.join(", ", adapter.supportedTemplates()) + ")");
          return null;
        }
        byTemplate.computeIfAbsent(t, k -> new ArrayList<>()).add(instance);
      }
      byTemplate.forEach((t, names) -> actions.add(new PendingAction(actions.size(), handler, t, names)));
    }
    return new PendingRule(o, match, tcp, actions);
  }

  /** Why a reference cannot be used, or null. */
  private String referenceProblem(Build b, String fqn, String what) {
    ConfigObject target = b.objects.get(fqn);
    if (target == null) {
      String[] parts = fqn.split("\\.");
      String kind = parts.length == 3 ? parts[1] : "";
      if (what.equals("handler") && !kind.isEmpty() && adapters.get(kind).isEmpty()) {
        return "handler '" + fqn + "' not found; no adapter '" + kind + "' in this build";
      }
      if (what.equals("instance") && !kind.isEmpty() && templates.get(kind).isEmpty()) {
        return "instance '" + fqn + "' not found; no template '" + kind + "' in this build";
      }
      return what + " '" + fqn + "' not found";
    }
    if (b.rejected(fqn)) {
      return what + " '" + fqn + "' is rejected: " + b.statuses.get(fqn).error();
    }
    boolean rightKind = what.equals("handler")
        ? adapters.get(target.kind()).isPresent() : templates.get(target.kind()).isPresent();
    if (!rightKind) {
      return "'" + fqn + "' is a " + target.kind() + ", not " + (what.equals("handler") ? "a handler" : "an instance");
    }
    return null;
  }

  // ---- handlers ----

  private void buildHandlers(Build b, List<PendingRule> rules, Snapshot previous, Attempts attempts) {
    Map<String, Map<String, Map<String, Object>>> usage = new TreeMap<>();
    for (PendingRule r : rules) {
      for (PendingAction a : r.actions()) {
        Map<String, Object> types = usage.computeIfAbsent(a.handler(), k -> new TreeMap<>())
            .computeIfAbsent(a.template().name(), k -> new TreeMap<>());
        for (String i : a.instances()) {
          types.put(i, b.instances.get(i).type());
        }
      }
    }
    for (Map.Entry<String, Map<String, Map<String, Object>>> u : usage.entrySet()) {
      ConfigObject o = b.objects.get(u.getKey());
      b.guarded(o, "building the handler", () -> handler(b, o, u.getValue(), previous, attempts));
    }
    // Handlers no rule uses: their configs are still validated, so mistakes show before they go live.
    for (ConfigObject o : b.objects.values()) {
      if (adapters.get(o.kind()).isPresent() && !usage.containsKey(o.fqn()) && !b.rejected(o.fqn())) {
        b.guarded(o, "validating the handler config", () -> {
          Problem problem = validateOnly(adapters.get(o.kind()).orElseThrow(), b.handlerConfigs.get(o.fqn()), Map.of());
          if (problem != null) {
            b.reject(o, problem.field(), problem.error());
          }
        });
      }
    }
  }

  private void handler(Build b, ConfigObject o, Map<String, Map<String, Object>> types, Snapshot previous,
      Attempts attempts) {
    String fqn = o.fqn();
    AdapterInfo adapter = adapters.get(o.kind()).orElseThrow();
    Message config = b.handlerConfigs.get(fqn);
    HandlerKey key = new HandlerKey(adapter.name(), config, types);
    HandlerEntry old = previous == null ? null : previous.handlers().get(fqn);
    if (old != null && old.key().equals(key)) {
      b.built.put(fqn, old);
      return;
    }
    if (mode == Mode.VALIDATE) {
      Problem problem = validateOnly(adapter, config, types);
      if (problem != null) {
        b.reject(o, problem.field(), problem.error());
      } else {
        b.built.put(fqn, new HandlerEntry(fqn, adapter, null, null, key));
      }
      return;
    }
    Attempt attempt = attempts.byFqn.get(fqn);
    if (attempt == null || !attempt.key().equals(key)) { // an earlier pass of this build may have built it
      HandlerEnv env = envs.apply(adapter, fqn);
      try {
        HandlerEntry entry = new HandlerEntry(fqn, adapter, factory.build(fqn, adapter, config, types, env), env, key);
        attempts.built.add(entry);
        attempt = new Attempt(key, entry, null);
      } catch (HandlerBuildException e) {
        env.close();
        attempt = new Attempt(key, null, e);
      } catch (RuntimeException | Error e) {
        env.close();
        throw e;
      }
      attempts.byFqn.put(fqn, attempt);
    }
    if (attempt.entry() != null) {
      b.built.put(fqn, attempt.entry());
    } else {
      b.reject(o, "spec", attempt.failure().getMessage());
      if (attempt.failure().retryable()) {
        attempts.retryable.add(fqn);
      }
    }
  }

  /** A handler config's problem: the field path and what is wrong. */
  private record Problem(String field, String error) {}

  /** Parses and validates a handler config without building it; null when it is valid. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private Problem validateOnly(AdapterInfo adapter, Message config, Map<String, Map<String, Object>> types) {
    try {
      HandlerBuilder builder = adapter.builderFactory().get();
      for (Map.Entry<String, Map<String, Object>> e : types.entrySet()) {
        Template t = templates.get(e.getKey()).orElseThrow();
        if (!t.supports(builder)) {
          return new Problem("kind", "adapter '" + adapter.name() + "' builder does not implement "
              + t.builderType().getName());
        }
        t.setTypes(builder, e.getValue());
      }
      builder.setAdapterConfig(config);
      ConfigErrors errors = builder.validate();
      if (errors == null || errors.isEmpty()) {
        return null;
      }
      List<ConfigErrors.ConfigError> list = errors.errors();
      return list.size() == 1
          ? new Problem(specField(list.get(0).field()), list.get(0).message())
          : new Problem("spec", "invalid config: " + errors);
    } catch (RuntimeException | LinkageError e) {
      return new Problem("spec", "validation failed: " + e);
    }
  }

  private Resolver.Rule finish(Build b, PendingRule r) {
    ConfigObject o = r.object();
    List<Action> check = new ArrayList<>();
    List<Action> report = new ArrayList<>();
    List<Action> quota = new ArrayList<>();
    for (PendingAction a : r.actions()) {
      HandlerEntry h = b.built.get(a.handler());
      if (h == null) {
        b.reject(o, "spec.actions", "handler '" + a.handler() + "' is rejected: " + b.statuses.get(a.handler()).error());
        return null;
      }
      List<CompiledInstance<AttributeBag>> instances = new ArrayList<>();
      for (String i : a.instances()) {
        instances.add(b.instances.get(i));
      }
      Action action = new Action(h, a.template(), List.copyOf(instances),
          metrics.stats(h.fqn(), h.adapter().name(), a.template().name()));
      Variety v = a.template().variety();
      (v == Variety.CHECK ? check : v == Variety.REPORT ? report : quota).add(action);
    }
    for (PendingAction a : r.actions()) {
      b.used.add(a.handler());
      b.used.addAll(a.instances());
    }
    return new Resolver.Rule(o.fqn(), r.match(), r.tcp(), List.copyOf(check), List.copyOf(report), List.copyOf(quota));
  }
}
