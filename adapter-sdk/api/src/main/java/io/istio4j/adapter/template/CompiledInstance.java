package io.istio4j.adapter.template;

import io.istio4j.adapter.Instance;

/**
 * An instance config with every field expression compiled: builds the template's instance from a
 * request's attributes.
 *
 * @param <B> the bag type
 */
public interface CompiledInstance<B> {

  /** The instance's fully qualified name. */
  String name();

  /** The inferred types, an instance of the template's generated {@code <Name>Type}. */
  Object type();

  /**
   * Evaluates every field against {@code bag}.
   *
   * @throws InstanceEvaluationException naming the field and instance when a field fails
   */
  Instance build(B bag);
}
