package io.istio4j.mixer.runtime;

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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a store's content into a {@link Snapshot}: merges the attribute manifests, compiles every
 * instance against them, parses handler configs, resolves rule references, builds the handlers the
 * rules use (reusing those whose config and instance types did not change), and records the state
 * of every object. An invalid object is rejected on its own, with its field and reason; whatever
 * depends on it is rejected with a message saying so; the rest applies.
 */
public final class SnapshotBuilder {

  private static final Logger log = LoggerFactory.getLogger(SnapshotBuilder.class);
  static final String RULE = "rule";
  static final String MANIFEST = "attributemanifest";
  private static final Set<String> RULE_FIELDS = Set.of("match", "selector", "actions");
  private static final Set<String> ACTION_FIELDS = Set.of("handler", "instances", "name");
  private static final Set<String> MANIFEST_FIELDS = Set.of("revision", "name", "attributes");

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final HandlerFactory factory;
  private final BiFunction<AdapterInfo, String, HandlerEnv> envs;
  private final boolean buildHandlers;
  private final RuntimeMetrics metrics;

  /**
   * @param envs makes the Env of a new handler from its adapter and FQN
   * @param buildHandlers false to validate only: handler configs are parsed and validated, not built
   * @param metrics where dispatches of the snapshot's actions are counted
   */
  public SnapshotBuilder(Templates templates, Adapters adapters, RuntimeOptions options,
      BiFunction<AdapterInfo, String, HandlerEnv> envs, boolean buildHandlers, RuntimeMetrics metrics) {
    this.metrics = metrics;
    this.templates = templates;
    this.adapters = adapters;
    this.options = options;
    this.factory = new HandlerFactory(templates);
    this.envs = envs;
    this.buildHandlers = buildHandlers;
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
    final Set<String> used = new java.util.HashSet<>();

    void reject(ConfigObject o, String field, String error) {
      statuses.put(o.fqn(), ObjectStatus.rejected(o.fqn(), o.kind(), o.source(), field, error));
    }

    boolean rejected(String fqn) {
      ObjectStatus s = statuses.get(fqn);
      return s != null && s.state() == ObjectStatus.State.REJECTED;
    }
  }

  /**
   * Builds the snapshot of {@code content}.
   *
   * @param previous the snapshot in use, whose unchanged handlers are reused
   */
  public Snapshot build(ConfigStore.Content content, Snapshot previous, long version) {
    Build b = new Build();
    for (ConfigStore.Problem p : content.problems()) {
      b.statuses.put(p.source(), ObjectStatus.rejected(p.source(), "", p.source(), "", p.message()));
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
    for (ConfigObject o : b.objects.values()) {
      if (o.kind().equals(MANIFEST)) {
        manifest(b, o);
      } else if (!o.kind().equals(RULE) && templates.get(o.kind()).isEmpty() && adapters.get(o.kind()).isEmpty()) {
        b.reject(o, "kind", "unknown kind '" + o.kind() + "': no adapter or template of that name in this build"
            + " (mixs inventory lists them)");
      }
    }
    ExpressionCompiler compiler = ExpressionCompiler.of(b.manifest);
    ExpressionFieldCompiler fields = new ExpressionFieldCompiler(compiler);
    for (ConfigObject o : b.objects.values()) {
      templates.get(o.kind()).ifPresent(t -> instance(b, o, t, fields));
      adapters.get(o.kind()).ifPresent(a -> handlerConfig(b, o, a));
    }
    List<PendingRule> pending = new ArrayList<>();
    for (ConfigObject o : b.objects.values()) {
      if (o.kind().equals(RULE)) {
        PendingRule r = rule(b, o, compiler);
        if (r != null) {
          pending.add(r);
        }
      }
    }
    buildHandlers(b, pending, previous);
    Map<String, List<Resolver.Rule>> byNamespace = new TreeMap<>();
    for (PendingRule r : pending) {
      Resolver.Rule rule = finish(b, r);
      if (rule != null) {
        byNamespace.computeIfAbsent(r.object().namespace(), k -> new ArrayList<>()).add(rule);
      }
    }
    for (ConfigObject o : b.objects.values()) {
      if (!b.statuses.containsKey(o.fqn())) {
        boolean active = o.kind().equals(RULE) || o.kind().equals(MANIFEST) || b.used.contains(o.fqn());
        b.statuses.put(o.fqn(), new ObjectStatus(o.fqn(), o.kind(), o.source(),
            active ? ObjectStatus.State.ACTIVE : ObjectStatus.State.UNUSED, "", ""));
      }
    }
    Map<String, Resolver.Rule[]> rules = new HashMap<>();
    byNamespace.forEach((ns, list) -> rules.put(ns, list.toArray(new Resolver.Rule[0])));
    return new Snapshot(version, b.manifest, options, rules, b.built, new ArrayList<>(b.statuses.values()));
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
      b.reject(o, "spec", e.getMessage());
    } catch (InstanceConfigException e) {
      b.reject(o, "spec." + e.field(), e.getMessage());
    }
  }

  private void handlerConfig(Build b, ConfigObject o, AdapterInfo a) {
    try {
      b.handlerConfigs.put(o.fqn(), SpecParser.parse(o.spec(), a.defaultConfig()));
    } catch (SpecParser.SpecException e) {
      b.reject(o, "spec", e.getMessage());
    }
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

  private void buildHandlers(Build b, List<PendingRule> rules, Snapshot previous) {
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
      String fqn = u.getKey();
      ConfigObject o = b.objects.get(fqn);
      AdapterInfo adapter = adapters.get(o.kind()).orElseThrow();
      Message config = b.handlerConfigs.get(fqn);
      HandlerKey key = new HandlerKey(adapter.name(), config, u.getValue());
      HandlerEntry old = previous == null ? null : previous.handlers().get(fqn);
      if (old != null && old.key().equals(key)) {
        b.built.put(fqn, old);
        continue;
      }
      if (!buildHandlers) {
        String problem = validateOnly(adapter, config, u.getValue());
        if (problem != null) {
          b.reject(o, "spec", problem);
        } else {
          b.built.put(fqn, new HandlerEntry(fqn, adapter, null, null, key));
        }
        continue;
      }
      HandlerEnv env = envs.apply(adapter, fqn);
      try {
        b.built.put(fqn, new HandlerEntry(fqn, adapter, factory.build(fqn, adapter, config, u.getValue(), env), env, key));
      } catch (HandlerBuildException e) {
        env.close();
        b.reject(o, "spec", e.getMessage());
        log.warn("handler {} rejected: {}", fqn, e.getMessage());
      }
    }
    // Handlers no rule uses: their configs are still validated, so mistakes show before they go live.
    for (ConfigObject o : b.objects.values()) {
      if (adapters.get(o.kind()).isPresent() && !usage.containsKey(o.fqn()) && !b.rejected(o.fqn())) {
        String problem = validateOnly(adapters.get(o.kind()).orElseThrow(), b.handlerConfigs.get(o.fqn()), Map.of());
        if (problem != null) {
          b.reject(o, "spec", problem);
        }
      }
    }
  }

  /** Parses and validates a handler config without building it; null when it is valid. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private String validateOnly(AdapterInfo adapter, Message config, Map<String, Map<String, Object>> types) {
    try {
      HandlerBuilder builder = adapter.builderFactory().get();
      for (Map.Entry<String, Map<String, Object>> e : types.entrySet()) {
        Template t = templates.get(e.getKey()).orElseThrow();
        if (!t.supports(builder)) {
          return "adapter '" + adapter.name() + "' builder does not implement " + t.builderType().getName();
        }
        t.setTypes(builder, e.getValue());
      }
      builder.setAdapterConfig(config);
      ConfigErrors errors = builder.validate();
      return errors == null || errors.isEmpty() ? null : "invalid config: " + errors;
    } catch (RuntimeException | LinkageError e) {
      return "validation failed: " + e;
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
