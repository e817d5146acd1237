package io.istio4j.mixer.expr;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.ValueType;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;

/**
 * Type-checks a parsed expression against the manifest and builds its evaluator in the same walk.
 * Messages follow upstream's checker: {@code EQ($a, true) arg 2 (true) typeError got BOOL,
 * expected INT64}, {@code unknown attribute x}, {@code unknown function: QUO}.
 */
final class Compiler {

  private static final Set<String> INSTANCE_METHODS = Set.of("matches", "startsWith", "endsWith");
  private static final Set<ValueType> ORDERED =
      Set.of(ValueType.INT64, ValueType.DOUBLE, ValueType.DURATION, ValueType.TIMESTAMP);
  private static final java.util.regex.Pattern RFC3339 = java.util.regex.Pattern.compile(
      "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");

  private final Map<String, ValueType> manifest;
  private final PatternCache patterns;

  Compiler(Map<String, ValueType> manifest, PatternCache patterns) {
    this.manifest = manifest;
    this.patterns = patterns;
  }

  Node compile(Expr e) throws ExpressionException {
    if (e instanceof Expr.Const c) {
      return new Node.Const(c.type(), c.value());
    }
    if (e instanceof Expr.Var v) {
      ValueType t = manifest.get(v.name());
      if (t == null) {
        throw new ExpressionException("unknown attribute " + v.name());
      }
      return new Node.Var(t, v.name());
    }
    return call((Expr.Call) e);
  }

  private Node call(Expr.Call c) throws ExpressionException {
    String fn = c.fn();
    if (INSTANCE_METHODS.contains(fn)) {
      if (c.target() == null) {
        throw new ExpressionException("invoking instance method without an instance: " + fn);
      }
      Node target = compile(c.target());
      if (target.type != ValueType.STRING) {
        throw new ExpressionException(c + " target (" + c.target() + ") typeError got " + target.type
            + ", expected STRING");
      }
      Node arg = arg(c, 0, 1, ValueType.STRING);
      return switch (fn) {
        case "startsWith" -> new Node.BinaryPredicate(target, arg,
            (t, a) -> ((String) t).startsWith((String) a));
        case "endsWith" -> new Node.BinaryPredicate(target, arg,
            (t, a) -> ((String) t).endsWith((String) a));
        default -> matches(target, arg); // the target is the pattern, as upstream
      };
    }
    if (c.target() != null) {
      throw new ExpressionException("unknown instance method: " + fn + " (in " + c + ")");
    }
    switch (fn) {
      case "EQ", "NEQ" -> {
        arity(c, 2);
        Node a = compile(c.args().get(0));
        Node b = sameType(c, a);
        if (a.type == ValueType.STRING_MAP) {
          throw new ExpressionException(c + ": equality of STRING_MAP values is not supported");
        }
        boolean negate = fn.equals("NEQ");
        if (a instanceof Node.Var v && b.constant() != null) {
          return new Node.VarEqualsConst(v, b.constant(), negate);
        }
        if (b instanceof Node.Var v && a.constant() != null) {
          return new Node.VarEqualsConst(v, a.constant(), negate);
        }
        if (a instanceof Node.MapIndex m && m.constantKey != null && b.constant() != null) {
          return new Node.MapValueEqualsConst(m, (String) b.constant(), negate);
        }
        if (b instanceof Node.MapIndex m && m.constantKey != null && a.constant() != null) {
          return new Node.MapValueEqualsConst(m, (String) a.constant(), negate);
        }
        boolean plainEquals = a.type != ValueType.IP_ADDRESS && a.type != ValueType.DOUBLE;
        if (plainEquals && b.constant() != null) {
          return new Node.EqualsConst(a, b.constant(), negate);
        }
        if (plainEquals && a.constant() != null) {
          return new Node.EqualsConst(b, a.constant(), negate);
        }
        return new Node.Equal(a, b, negate);
      }
      case "LOR", "LAND" -> {
        Node[] operands = chain(c, ValueType.BOOL);
        boolean or = fn.equals("LOR");
        if (operands.length == 2) { // the common case keeps its two-field node
          return or ? new Node.Lor(operands[0], operands[1]) : new Node.Land(operands[0], operands[1]);
        }
        return or ? new Node.AnyOf(operands) : new Node.AllOf(operands);
      }
      case "OR" -> {
        Node[] operands = chain(c, null);
        ValueType type = operands[0].type;
        return operands.length == 2 ? new Node.Or(type, operands[0], operands[1])
            : new Node.FirstPresent(type, operands);
      }
      case "INDEX" -> {
        Node map = arg(c, 0, 2, ValueType.STRING_MAP);
        Node key = arg(c, 1, 2, ValueType.STRING);
        return c.args().get(0) instanceof Expr.Var v
            ? new Node.MapIndex(v.name(), key) : new Node.ValueIndex(map, key);
      }
      case "NOT" -> {
        return new Node.Not(arg(c, 0, 1, ValueType.BOOL));
      }
      case "LSS", "LEQ", "GTR", "GEQ" -> {
        arity(c, 2);
        Node a = compile(c.args().get(0));
        if (!ORDERED.contains(a.type)) {
          throw typeError(c, 0, a.type, "INT64, DOUBLE, DURATION or TIMESTAMP");
        }
        return new Node.Compare(a, sameType(c, a), fn);
      }
      case "ip" -> {
        Node s = arg(c, 0, 1, ValueType.STRING);
        return fold(new Node.Unary(ValueType.IP_ADDRESS, s, v -> {
          byte[] ip = GoValues.parseIp((String) v);
          if (ip == null) {
            throw new EvaluationException("could not convert " + v + " to IP_ADDRESS");
          }
          return ip;
        }));
      }
      case "timestamp" -> {
        Node s = arg(c, 0, 1, ValueType.STRING);
        return fold(new Node.Unary(ValueType.TIMESTAMP, s, v -> timestamp((String) v)));
      }
      case "match" -> {
        Node s = arg(c, 0, 2, ValueType.STRING);
        Node p = arg(c, 1, 2, ValueType.STRING);
        if (p.constant() instanceof String pattern) {
          return globMatcher(s, pattern);
        }
        return new Node.BinaryPredicate(s, p, (x, y) -> glob((String) x, (String) y));
      }
      case "email" -> {
        return fold(new Node.Unary(ValueType.EMAIL_ADDRESS, arg(c, 0, 1, ValueType.STRING),
            v -> checkedString((String) v, Compiler::isEmail, "EMAIL_ADDRESS")));
      }
      case "dnsName" -> {
        return fold(new Node.Unary(ValueType.DNS_NAME, arg(c, 0, 1, ValueType.STRING),
            v -> checkedString((String) v, Compiler::isDnsName, "DNS_NAME")));
      }
      case "uri" -> {
        return fold(new Node.Unary(ValueType.URI, arg(c, 0, 1, ValueType.STRING),
            v -> checkedString((String) v, Compiler::isUri, "URI")));
      }
      case "emptyStringMap" -> {
        arity(c, 0);
        return new Node.Const(ValueType.STRING_MAP, Map.of());
      }
      case "conditional" -> {
        arity(c, 3);
        Node cond = arg(c, 0, 3, ValueType.BOOL);
        Node then = compile(c.args().get(1));
        Node otherwise = compile(c.args().get(2));
        if (otherwise.type != then.type) {
          throw typeError(c, 2, otherwise.type, then.type.name());
        }
        return new Node.Conditional(then.type, cond, then, otherwise);
      }
      case "size" -> {
        arity(c, 1);
        Node a = compile(c.args().get(0));
        if (a.type == ValueType.STRING_MAP) {
          return new Node.Unary(ValueType.INT64, a, v -> (long) ((Map<?, ?>) v).size());
        }
        if (!a.type.isStringLike()) {
          throw typeError(c, 0, a.type, "STRING or STRING_MAP");
        }
        return new Node.Unary(ValueType.INT64, a, v -> (long) ((String) v).codePointCount(0, ((String) v).length()));
      }
      default -> throw new ExpressionException("unknown function: " + fn);
    }
  }

  // ---- checks ----

  /**
   * Compiles the operands of a chain ({@code a || b || c} is one call), which must all have {@code
   * type}, or the first one's type when {@code type} is null. Loops, so a chain of any length
   * compiles on a small stack. Type errors name the call as upstream's nested binary calls did.
   */
  private Node[] chain(Expr.Call c, ValueType type) throws ExpressionException {
    if (c.args().size() < 2) {
      arity(c, 2);
    }
    Node[] operands = new Node[c.args().size()];
    for (int i = 0; i < operands.length; i++) {
      Node operand = compile(c.args().get(i));
      ValueType expected = type != null ? type : operands[0] == null ? operand.type : operands[0].type;
      if (operand.type != expected) {
        // Upstream's call for operand i was the chain up to it: LOR(LOR(a, b), c) for c.
        Expr.Call upstream = new Expr.Call(c.fn(), null, c.args().subList(0, Math.max(i, 1) + 1));
        throw new ExpressionException(upstream + " arg " + (i == 0 ? 1 : 2) + " (" + c.args().get(i)
            + ") typeError got " + operand.type + ", expected " + expected.name());
      }
      operands[i] = operand;
    }
    return operands;
  }

  private void arity(Expr.Call c, int expected) throws ExpressionException {
    if (c.args().size() != expected) {
      throw new ExpressionException(c + " arity mismatch. Got " + c.args().size()
          + " arg(s), expected " + expected + " arg(s)");
    }
  }

  /** Compiles argument {@code i} of a call of {@code n} arguments, which must be of {@code type}. */
  private Node arg(Expr.Call c, int i, int n, ValueType type) throws ExpressionException {
    arity(c, n);
    Node a = compile(c.args().get(i));
    if (a.type != type) {
      throw typeError(c, i, a.type, type.name());
    }
    return a;
  }

  /** Compiles the second argument, which must have the first one's type. */
  private Node sameType(Expr.Call c, Node first) throws ExpressionException {
    Node b = compile(c.args().get(1));
    if (b.type != first.type) {
      throw typeError(c, 1, b.type, first.type.name());
    }
    return b;
  }

  private static ExpressionException typeError(Expr.Call c, int i, ValueType got, String expected) {
    return new ExpressionException(c + " arg " + (i + 1) + " (" + c.args().get(i) + ") typeError got "
        + got + ", expected " + expected);
  }

  // ---- functions ----

  /** Evaluates a conversion of a constant now, unless it fails: then it fails at evaluation, as upstream. */
  private static Node fold(Node.Unary n) {
    Object arg = n.arg.constant();
    if (arg == null) {
      return n;
    }
    try {
      return new Node.Const(n.type, n.fn.apply(arg));
    } catch (EvaluationException e) {
      return n;
    }
  }

  static Instant timestamp(String s) {
    try {
      if (RFC3339.matcher(s).matches()) {
        return OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
      }
    } catch (DateTimeParseException e) {
      // fall through
    }
    throw new EvaluationException("could not convert '" + s
        + "' to TIMESTAMP. expected format: '2006-01-02T15:04:05Z07:00'");
  }

  /** upstream's match(): "prefix*", "*suffix", or exact. */
  static boolean glob(String s, String pattern) {
    if (pattern.endsWith("*")) {
      return s.startsWith(pattern.substring(0, pattern.length() - 1));
    }
    if (pattern.startsWith("*")) {
      return s.endsWith(pattern.substring(1));
    }
    return s.equals(pattern);
  }

  private static Node globMatcher(Node s, String pattern) {
    if (pattern.endsWith("*")) {
      String prefix = pattern.substring(0, pattern.length() - 1);
      return new Node.UnaryPredicate(s, v -> ((String) v).startsWith(prefix));
    }
    if (pattern.startsWith("*")) {
      String suffix = pattern.substring(1);
      return new Node.UnaryPredicate(s, v -> ((String) v).endsWith(suffix));
    }
    return new Node.UnaryPredicate(s, v -> v.equals(pattern));
  }

  /**
   * {@code pattern.matches(s)}: RE2 syntax, unanchored, linear time. A constant pattern compiles
   * here, once; any other through the bounded cache, once per distinct pattern.
   */
  private Node matches(Node pattern, Node s) {
    if (pattern.constant() instanceof String p && RegexLimits.problem(p) == null) {
      try {
        Pattern compiled = Pattern.compile(p);
        return new Node.UnaryPredicate(s, v -> compiled.matcher((String) v).find());
      } catch (PatternSyntaxException e) {
        // fails at evaluation, as upstream
      }
    }
    PatternCache cache = patterns;
    return new Node.BinaryPredicate(pattern, s, (p, v) -> cache.get((String) p).matcher((String) v).find());
  }

  private interface StringCheck {
    boolean test(String s);
  }

  private static String checkedString(String s, StringCheck check, String type) {
    if (!check.test(s)) {
      throw new EvaluationException("error converting string to " + type + ": '" + s + "'");
    }
    return s;
  }

  static boolean isEmail(String s) {
    int at = s.lastIndexOf('@');
    return at > 0 && at < s.length() - 1 && s.indexOf(' ') < 0 && isDnsName(s.substring(at + 1));
  }

  static boolean isDnsName(String s) {
    String name = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    if (name.isEmpty() || name.length() > 253) {
      return false;
    }
    for (String label : name.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
        return false;
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        if (!(Character.isLetterOrDigit(c) && c < 128) && c != '-' && c != '_') {
          return false;
        }
      }
    }
    return true;
  }

  static boolean isUri(String s) {
    try {
      return !s.isEmpty() && new URI(s).toString() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
