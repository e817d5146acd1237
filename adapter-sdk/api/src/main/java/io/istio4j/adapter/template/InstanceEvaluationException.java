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
        + (isInternal(cause) ? "internal error (see server log)" : cause.getMessage()), cause, false, false);
  }

  /**
   * True when the evaluation failed on a bug rather than on the request (a JVM exception such as a
   * NullPointerException or ClassCastException): its message, full of Java class names, is not
   * sent to clients; Mixer logs the cause instead.
   */
  public boolean isInternal() {
    return isInternal((RuntimeException) getCause());
  }

  private static boolean isInternal(RuntimeException cause) {
    // An expression's own failures (a missing attribute, a type mismatch) explain themselves.
    return cause.getMessage() == null || cause.getClass().getName().startsWith("java.");
  }
}
