package io.istio4j.mixer.expr;

/**
 * An expression that failed while evaluating against a bag, e.g. {@code lookup failed: 'a'} for a
 * missing attribute. Carries no stack trace: evaluation errors are expected outcomes, and the
 * compiled expression reuses one instance per missing attribute so that failing costs no allocation.
 */
public final class EvaluationException extends RuntimeException {

  EvaluationException(String message) {
    super(message, null, false, false);
  }
}
