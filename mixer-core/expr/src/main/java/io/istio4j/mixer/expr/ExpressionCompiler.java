package io.istio4j.mixer.expr;

import io.istio4j.adapter.ValueType;
import static java.util.Objects.requireNonNull;

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

  private final Map<String, ValueType> manifest;

  private ExpressionCompiler(Map<String, ValueType> manifest) {
    this.manifest = Map.copyOf(manifest);
  }

  /** A compiler for attributes declared in {@code manifest}. */
  public static ExpressionCompiler of(Map<String, ValueType> manifest) {
    return new ExpressionCompiler(requireNonNull(manifest, "manifest"));
  }

  /** The manifest this compiler checks against. */
  public Map<String, ValueType> manifest() {
    return manifest;
  }

  /** Compiles {@code text}; throws ExpressionException with upstream's message when it cannot. */
  public Expression compile(String text) throws ExpressionException {
    requireNonNull(text, "text");
    Node root = new Compiler(manifest).compile(Parser.parse(text));
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
    if (!(e instanceof Expr.Call c) || c.target() != null || c.args().size() != 2) {
      return false;
    }
    if (c.fn().equals("LAND")) {
      return hasConjunct(c.args().get(0), attribute, value) || hasConjunct(c.args().get(1), attribute, value);
    }
    return c.fn().equals("EQ") && (isPair(c.args().get(0), c.args().get(1), attribute, value)
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
    public Object evaluate(io.istio4j.mixer.attribute.AttributeBag bag) {
      return root.eval(bag);
    }

    @Override
    public boolean evaluateBoolean(io.istio4j.mixer.attribute.AttributeBag bag) {
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
