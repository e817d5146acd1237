package io.istio4j.mixer.expr;

import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.attribute.AttributeBag;

/**
 * A compiled expression: parsed and type-checked once, evaluated per request without walking a
 * tree of strings. Every attribute and map key it reads is recorded on the bag.
 *
 * <pre>{@code
 * ExpressionCompiler compiler = ExpressionCompiler.of(Map.of("request.size", ValueType.INT64));
 * Expression small = compiler.compile("(request.size | 0) < 1024");
 * boolean ok = small.evaluateBoolean(bag);   // throws EvaluationException, e.g. lookup failed
 * }</pre>
 */
public interface Expression {

  /** The source text. */
  String text();

  /** The type of the result. */
  ValueType type();

  /**
   * Evaluates against {@code bag}; the result has the Java type of {@link #type()} (see
   * {@link AttributeBag}). Throws {@link EvaluationException} when evaluation fails.
   */
  Object evaluate(AttributeBag bag);

  /** Evaluates a BOOL expression without boxing; throws IllegalStateException for other types. */
  boolean evaluateBoolean(AttributeBag bag);
}
