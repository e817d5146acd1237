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
