package io.istio4j.mixer.expr;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.AttributeBag;
import java.util.Map;

/**
 * Compiles expressions against an attribute manifest (attribute name to type). Compilation parses,
 * type-checks and builds an evaluator; do it when config changes, not per request.
 *
 * <pre>{@code
 * ExpressionCompiler compiler = ExpressionCompiler.of(manifest);
 * Expression match = compiler.compile("destination.service == \"reviews.default.svc.cluster.local\"");
 * }</pre>
 */
public final class ExpressionCompiler {

  /**
   * How deeply an expression may nest: parentheses, unary operators, calls, indexes, selectors
   * ({@code a.b.c} is two) and chains of non-associative operators ({@code a == b == c}) each count
   * a level. Chains of {@code ||}, {@code &&} and {@code |} do not: they may be any length. Real
   * rules nest a handful of levels; the limit keeps parsing, compiling and evaluating (which
   * recurse) far from the end of any thread's stack, including small ones such as gRPC's.
   */
  public static final int MAX_DEPTH = 256;

  private final Map<String, ValueType> manifest;
  private final PatternCache patterns;

  ExpressionCompiler(Map<String, ValueType> manifest, PatternCache patterns) {
    this.manifest = Map.copyOf(manifest);
    this.patterns = patterns;
  }

  /** A compiler for attributes declared in {@code manifest}. */
  public static ExpressionCompiler of(Map<String, ValueType> manifest) {
    return new ExpressionCompiler(requireNonNull(manifest, "manifest"), PatternCache.SHARED);
  }

  /** The manifest this compiler checks against. */
  public Map<String, ValueType> manifest() {
    return manifest;
  }

  /** Compiles {@code text}; throws ExpressionException with upstream's message when it cannot. */
  public Expression compile(String text) throws ExpressionException {
    requireNonNull(text, "text");
    Node root = new Compiler(manifest, patterns).compile(Parser.parse(text));
    return new CompiledExpression(text, root);
  }

  /** Returns only the type {@code text} would have; throws ExpressionException like compile. */
  public ValueType typeOf(String text) throws ExpressionException {
    return compile(text).type();
  }

  /**
   * True when {@code text} parses and one of its top-level {@code &&} conjuncts is {@code attribute
   * == "value"} (either way round): how upstream recognised TCP rules ({@code context.protocol ==
   * "tcp"}).
   */
  public static boolean hasEqualityConjunct(String text, String attribute, String value) {
    try {
      return hasConjunct(Parser.parse(text), attribute, value);
    } catch (ExpressionException e) {
      return false;
    }
  }

  private static boolean hasConjunct(Expr e, String attribute, String value) {
    if (!(e instanceof Expr.Call c) || c.target() != null) {
      return false;
    }
    if (c.fn().equals("LAND")) {
      for (Expr conjunct : c.args()) { // a chain a && b && c is one call
        if (hasConjunct(conjunct, attribute, value)) {
          return true;
        }
      }
      return false;
    }
    return c.fn().equals("EQ") && c.args().size() == 2 && (isPair(c.args().get(0), c.args().get(1), attribute, value)
        || isPair(c.args().get(1), c.args().get(0), attribute, value));
  }

  private static boolean isPair(Expr var, Expr constant, String attribute, String value) {
    return var instanceof Expr.Var v && v.name().equals(attribute)
        && constant instanceof Expr.Const k && value.equals(k.value());
  }

  private record CompiledExpression(String text, Node root) implements Expression {
    @Override
    public ValueType type() {
      return root.type;
    }

    @Override
    public Object evaluate(AttributeBag bag) {
      return root.eval(bag);
    }

    @Override
    public boolean evaluateBoolean(AttributeBag bag) {
      if (root.type != ValueType.BOOL) {
        throw new IllegalStateException("expression " + text + " is " + root.type + ", not BOOL");
      }
      return root.evalBool(bag);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
