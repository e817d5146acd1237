package io.istio4j.adapter.template;

/**
 * A field of an instance could not be evaluated for a request. The message is upstream's: {@code
 * failed to evaluate field '<field>' for instance '<instance FQN>': <why>}.
 */
public final class InstanceEvaluationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Wraps {@code cause}, the evaluation failure of {@code field} in {@code instance}. */
  public InstanceEvaluationException(String field, String instance, RuntimeException cause) {
    super("failed to evaluate field '" + field + "' for instance '" + instance + "': "
        + cause.getMessage(), cause, false, false);
  }
}
