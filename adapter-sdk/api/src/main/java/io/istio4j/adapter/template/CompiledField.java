package io.istio4j.adapter.template;

import io.istio4j.adapter.ValueType;

/**
 * One compiled field expression, evaluated per request.
 *
 * @param <B> the bag type
 */
public interface CompiledField<B> {

  /** The expression's type. */
  ValueType type();

  /**
   * Evaluates against {@code bag}; the result has the Java type listed on {@link ValueType}.
   * Throws a RuntimeException whose message says why evaluation failed (for example {@code lookup
   * failed: 'source.ip'}).
   */
  Object evaluate(B bag);
}
