package io.istio4j.mixer.expr;

import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.AttributeBag;
import io.istio4j.mixer.attribute.AttributeName;
import io.istio4j.mixer.attribute.MapKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * A compiled expression node: a closure over resolved attribute names and precomputed constants.
 * {@link #eval} fails for a missing attribute; {@link #tryEval} instead returns {@link #ABSENT}
 * where upstream's {@code |} operator lets the next operand take over.
 */
abstract class Node {

  /** What {@link #tryEval} returns for an absent attribute or map entry. */
  static final Object ABSENT = new Object();

  final ValueType type;

  Node(ValueType type) {
    this.type = type;
  }

  abstract Object eval(AttributeBag bag);

  Object tryEval(AttributeBag bag) {
    return eval(bag);
  }

  boolean evalBool(AttributeBag bag) {
    return (Boolean) eval(bag);
  }

  /** A constant's value, or null when this node is not constant. */
  Object constant() {
    return null;
  }

  // ---- leaves ----

  static final class Const extends Node {
    final Object value;

    Const(ValueType type, Object value) {
      super(type);
      this.value = value;
    }

    @Override
    Object eval(AttributeBag bag) {
      return value;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return (Boolean) value;
    }

    @Override
    Object constant() {
      return value;
    }
  }

  /** An attribute of the manifest; its value must have the Java type of its declared type. */
  static final class Var extends Node {
    final AttributeName name;
    final EvaluationException missing;

    Var(ValueType type, String name) {
      super(type);
      this.name = AttributeName.of(name);
      this.missing = new EvaluationException("lookup failed: '" + name + "'");
    }

    @Override
    Object eval(AttributeBag bag) {
      Object v = bag.get(name);
      if (v == null) {
        throw missing;
      }
      return checked(type, v);
    }

    @Override
    Object tryEval(AttributeBag bag) {
      Object v = bag.get(name);
      return v == null ? ABSENT : checked(type, v);
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      Object v = bag.get(name);
      if (v == null) {
        throw missing;
      }
      if (v instanceof Boolean b) {
        return b;
      }
      throw conversion(type, v);
    }
  }

  static Object checked(ValueType type, Object v) {
    boolean ok = switch (type) {
      case STRING, EMAIL_ADDRESS, URI, DNS_NAME -> v instanceof String;
      case INT64 -> v instanceof Long;
      case DOUBLE -> v instanceof Double;
      case BOOL -> v instanceof Boolean;
      case TIMESTAMP -> v instanceof Instant;
      case DURATION -> v instanceof Duration;
      case IP_ADDRESS -> v instanceof byte[];
      case STRING_MAP -> v instanceof Map;
      default -> true;
    };
    if (!ok) {
      throw conversion(type, v);
    }
    return v;
  }

  static EvaluationException conversion(ValueType type, Object v) {
    String target = switch (type) {
      case STRING, EMAIL_ADDRESS, URI, DNS_NAME -> "string";
      case INT64, DURATION -> "integer or duration";
      case DOUBLE -> "double";
      case BOOL -> "bool";
      case TIMESTAMP -> "timestamp";
      case IP_ADDRESS -> "IP_ADDRESS";
      default -> "string map";
    };
    return new EvaluationException("error converting value to " + target + ": '" + v + "'");
  }

  /**
   * {@code map[key]} on a map attribute: records only the key. Outside {@code |}, a missing key
   * yields "" and a missing map fails; inside, either is ABSENT.
   */
  static final class MapIndex extends Node {
    final AttributeName map;
    final EvaluationException missingMap;
    final MapKey constantKey;
    final Node key;

    MapIndex(String map, Node key) {
      super(ValueType.STRING);
      this.map = AttributeName.of(map);
      this.missingMap = new EvaluationException("lookup failed: '" + map + "'");
      this.constantKey = key.constant() instanceof String s ? MapKey.of(s) : null;
      this.key = key;
    }

    @Override
    Object eval(AttributeBag bag) {
      MapKey k = constantKey != null ? constantKey : MapKey.unregistered((String) key.eval(bag));
      String v = bag.getMapValue(map, k);
      if (v != null) {
        return v;
      }
      if (!bag.contains(map)) {
        throw missingMap;
      }
      return "";
    }

    @Override
    Object tryEval(AttributeBag bag) {
      MapKey k = constantKey;
      if (k == null) {
        Object kv = key.tryEval(bag);
        if (kv == ABSENT) {
          return ABSENT;
        }
        k = MapKey.unregistered((String) kv);
      }
      String v = bag.getMapValue(map, k);
      return v == null ? ABSENT : v;
    }
  }

  /** {@code expr[key]} on a map that is not an attribute (emptyStringMap(), conditional(...)). */
  static final class ValueIndex extends Node {
    final Node map;
    final Node key;

    ValueIndex(Node map, Node key) {
      super(ValueType.STRING);
      this.map = map;
      this.key = key;
    }

    @Override
    Object eval(AttributeBag bag) {
      Object v = ((Map<?, ?>) map.eval(bag)).get(key.eval(bag));
      return v == null ? "" : v;
    }

    @Override
    Object tryEval(AttributeBag bag) {
      Object m = map.tryEval(bag);
      if (m == ABSENT) {
        return ABSENT;
      }
      Object k = key.tryEval(bag);
      if (k == ABSENT) {
        return ABSENT;
      }
      Object v = ((Map<?, ?>) m).get(k);
      return v == null ? ABSENT : v;
    }
  }

  // ---- operators ----

  /** {@code a | b}: the first present operand. */
  static final class Or extends Node {
    final Node left;
    final Node right;

    Or(ValueType type, Node left, Node right) {
      super(type);
      this.left = left;
      this.right = right;
    }

    @Override
    Object eval(AttributeBag bag) {
      Object v = left.tryEval(bag);
      return v != ABSENT ? v : right.eval(bag);
    }

    @Override
    Object tryEval(AttributeBag bag) {
      Object v = left.tryEval(bag);
      return v != ABSENT ? v : right.tryEval(bag);
    }
  }

  /** {@code a | b | c ...}: the first present operand, in a loop however long the chain. */
  static final class FirstPresent extends Node {
    final Node[] operands;

    FirstPresent(ValueType type, Node[] operands) {
      super(type);
      this.operands = operands;
    }

    @Override
    Object eval(AttributeBag bag) {
      int last = operands.length - 1;
      for (int i = 0; i < last; i++) {
        Object v = operands[i].tryEval(bag);
        if (v != ABSENT) {
          return v;
        }
      }
      return operands[last].eval(bag);
    }

    @Override
    Object tryEval(AttributeBag bag) {
      for (Node operand : operands) {
        Object v = operand.tryEval(bag);
        if (v != ABSENT) {
          return v;
        }
      }
      return ABSENT;
    }
  }

  /** A node whose result is BOOL: eval boxes evalBool. */
  abstract static class Predicate extends Node {
    Predicate() {
      super(ValueType.BOOL);
    }

    @Override
    final Object eval(AttributeBag bag) {
      return evalBool(bag);
    }

    @Override
    abstract boolean evalBool(AttributeBag bag);
  }

  /** A BOOL node with two operands. */
  abstract static class Binary extends Predicate {
    final Node left;
    final Node right;

    Binary(Node left, Node right) {
      this.left = left;
      this.right = right;
    }
  }

  static final class Equal extends Binary {
    final boolean negate;

    Equal(Node left, Node right, boolean negate) {
      super(left, right);
      this.negate = negate;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      Object a = left.eval(bag);
      Object b = right.eval(bag);
      return negate != equal(left.type, a, b);
    }
  }

  /** {@code attribute == constant}, the most common match: one lookup and one equals. */
  static final class VarEqualsConst extends Predicate {
    final Var var;
    final Object value;
    final boolean negate;

    VarEqualsConst(Var var, Object value, boolean negate) {
      this.var = var;
      this.value = value;
      this.negate = negate;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return negate != equal(var.type, var.eval(bag), value);
    }
  }

  /** {@code expression == constant} for types whose equality is {@code equals}: no type dispatch. */
  static final class EqualsConst extends Predicate {
    final Node node;
    final Object value;
    final boolean negate;

    EqualsConst(Node node, Object value, boolean negate) {
      this.node = node;
      this.value = value;
      this.negate = negate;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return negate != value.equals(node.eval(bag));
    }
  }

  /** {@code m["key"] == "value"}, the header and label matches: one map lookup, one String equals. */
  static final class MapValueEqualsConst extends Predicate {
    final AttributeName map;
    final MapKey key;
    final String value;
    final boolean negate;
    final MapIndex index;

    MapValueEqualsConst(MapIndex index, String value, boolean negate) {
      this.map = index.map;
      this.key = index.constantKey;
      this.value = value;
      this.negate = negate;
      this.index = index;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      String v = bag.getMapValue(map, key);
      if (v == null) {
        v = (String) index.eval(bag); // "" for a missing key, an error for a missing map
      }
      return negate != value.equals(v);
    }
  }

  static boolean equal(ValueType type, Object a, Object b) {
    if (type == ValueType.IP_ADDRESS) {
      return GoValues.ipEqual((byte[]) a, (byte[]) b);
    }
    if (type == ValueType.DOUBLE) {
      return ((Double) a).doubleValue() == ((Double) b).doubleValue(); // NaN != NaN, as Go
    }
    return a.equals(b);
  }

  static final class Lor extends Binary {
    Lor(Node left, Node right) {
      super(left, right);
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return left.evalBool(bag) || right.evalBool(bag);
    }
  }

  /** Upstream evaluates both operands of {@code &&}, so an error on the right is never hidden. */
  static final class Land extends Binary {
    Land(Node left, Node right) {
      super(left, right);
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      boolean l = left.evalBool(bag);
      boolean r = right.evalBool(bag);
      return l && r;
    }
  }

  /** {@code a || b || c ...}: short-circuits as {@link Lor} does, in a loop. */
  static final class AnyOf extends Predicate {
    final Node[] operands;

    AnyOf(Node[] operands) {
      this.operands = operands;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      for (Node operand : operands) {
        if (operand.evalBool(bag)) {
          return true;
        }
      }
      return false;
    }
  }

  /** {@code a && b && c ...}: evaluates every operand, as {@link Land} does, in a loop. */
  static final class AllOf extends Predicate {
    final Node[] operands;

    AllOf(Node[] operands) {
      this.operands = operands;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      boolean all = true;
      for (Node operand : operands) {
        all &= operand.evalBool(bag);
      }
      return all;
    }
  }

  static final class Not extends Predicate {
    final Node operand;

    Not(Node operand) {
      this.operand = operand;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return !operand.evalBool(bag);
    }
  }

  /** {@code <, <=, >, >=} on INT64, DOUBLE, DURATION and TIMESTAMP. */
  static final class Compare extends Binary {
    final String op;

    Compare(Node left, Node right, String op) {
      super(left, right);
      this.op = op;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      Object a = left.eval(bag);
      Object b = right.eval(bag);
      int c = switch (left.type) {
        case INT64 -> Long.compare((Long) a, (Long) b);
        case DOUBLE -> {
          double x = (Double) a;
          double y = (Double) b;
          if (Double.isNaN(x) || Double.isNaN(y)) {
            yield 2; // every comparison with NaN is false
          }
          yield Double.compare(x, y);
        }
        case DURATION -> ((Duration) a).compareTo((Duration) b);
        default -> ((Instant) a).compareTo((Instant) b);
      };
      if (c == 2) {
        return false;
      }
      return switch (op) {
        case "LSS" -> c < 0;
        case "LEQ" -> c <= 0;
        case "GTR" -> c > 0;
        default -> c >= 0;
      };
    }
  }

  static final class Conditional extends Node {
    final Node cond;
    final Node then;
    final Node otherwise;

    Conditional(ValueType type, Node cond, Node then, Node otherwise) {
      super(type);
      this.cond = cond;
      this.then = then;
      this.otherwise = otherwise;
    }

    @Override
    Object eval(AttributeBag bag) {
      return cond.evalBool(bag) ? then.eval(bag) : otherwise.eval(bag);
    }

    @Override
    Object tryEval(AttributeBag bag) {
      return cond.evalBool(bag) ? then.tryEval(bag) : otherwise.tryEval(bag);
    }
  }

  /** A function of one argument, for the conversions and checks. */
  static final class Unary extends Node {
    interface Fn {
      Object apply(Object arg);
    }

    final Node arg;
    final Fn fn;

    Unary(ValueType type, Node arg, Fn fn) {
      super(type);
      this.arg = arg;
      this.fn = fn;
    }

    @Override
    Object eval(AttributeBag bag) {
      return fn.apply(arg.eval(bag));
    }
  }

  /** A BOOL function of two arguments (match, startsWith, endsWith, matches). */
  static final class BinaryPredicate extends Binary {
    interface Fn {
      boolean test(Object a, Object b);
    }

    final Fn fn;

    BinaryPredicate(Node a, Node b, Fn fn) {
      super(a, b);
      this.fn = fn;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return fn.test(left.eval(bag), right.eval(bag));
    }
  }

  /** A BOOL function of one argument whose other argument was fixed at compile time. */
  static final class UnaryPredicate extends Predicate {
    interface Fn {
      boolean test(Object a);
    }

    final Node a;
    final Fn fn;

    UnaryPredicate(Node a, Fn fn) {
      this.a = a;
      this.fn = fn;
    }

    @Override
    boolean evalBool(AttributeBag bag) {
      return fn.test(a.eval(bag));
    }
  }
}
