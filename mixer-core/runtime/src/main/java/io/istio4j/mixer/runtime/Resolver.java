package io.istio4j.mixer.runtime;

import io.istio4j.adapter.template.Variety;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.AttributeName;
import io.istio4j.mixer.expr.Expression;
import io.istio4j.mixer.runtime.Snapshot.Action;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Picks the actions that apply to a request, as upstream's resolver did: the rules of the default
 * namespace plus those of the namespace named by the identity attribute (its second dot-separated
 * segment), of the request's protocol, whose precompiled match is true. Immutable; one per snapshot.
 */
final class Resolver {

  private static final AttributeName CONTEXT_PROTOCOL = AttributeName.of("context.protocol");
  private static final Rule[] NO_RULES = new Rule[0];

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

  private final AttributeName identity;
  private final String identityName;
  private final String defaultNamespace;
  private final Rule[] defaultRules;
  private final Map<String, Rule[]> rulesByNamespace;
  private final boolean[] hasRules = new boolean[Variety.values().length];

  Resolver(RuntimeOptions options, Map<String, Rule[]> rulesByNamespace) {
    this.identityName = options.identityAttribute();
    this.identity = AttributeName.of(options.identityAttribute());
    this.defaultNamespace = options.defaultNamespace();
    this.defaultRules = rulesByNamespace.getOrDefault(defaultNamespace, NO_RULES);
    this.rulesByNamespace = Map.copyOf(rulesByNamespace);
    for (Rule[] rules : rulesByNamespace.values()) {
      for (Rule r : rules) {
        for (Variety v : Variety.values()) {
          hasRules[v.ordinal()] |= !r.actions(v).isEmpty();
        }
      }
    }
  }

  /**
   * The actions of {@code variety} that apply to a request: the rules of the default namespace and
   * of the identity attribute's namespace, of the request's protocol, whose match is true.
   *
   * @throws ResolutionException when the identity attribute is missing or a match fails
   */
  List<Action> resolve(AttributeBag bag, Variety variety) {
    if (!hasRules[variety.ordinal()]) {
      return List.of(); // nothing of this variety is configured anywhere: no identity needed
    }
    Object id = bag.get(identity);
    if (id == null) {
      throw new ResolutionException(identityName + " identity not found in attributes"
          + new TreeSet<>(bag.names()).toString().replace(",", ""));
    }
    if (!(id instanceof String)) {
      throw new ResolutionException(identityName + " identity must be a STRING, got " + kind(id));
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

  /** The attribute value type of {@code value}, in the words of the attribute manifest. */
  static String kind(Object value) {
    if (value instanceof Long) {
      return "an INT64";
    } else if (value instanceof Double) {
      return "a DOUBLE";
    } else if (value instanceof Boolean) {
      return "a BOOL";
    } else if (value instanceof Instant) {
      return "a TIMESTAMP";
    } else if (value instanceof Duration) {
      return "a DURATION";
    } else if (value instanceof byte[]) {
      return "an IP_ADDRESS (bytes)";
    } else if (value instanceof Map) {
      return "a STRING_MAP";
    }
    return "a value of another type";
  }
}
