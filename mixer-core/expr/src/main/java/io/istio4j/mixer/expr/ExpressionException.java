package io.istio4j.mixer.expr;

/**
 * An expression that cannot be compiled: it does not parse, names an unknown attribute or
 * function, or does not type-check. The message is upstream's text where upstream had one, e.g.
 * {@code unable to parse expression 'a = 2': 1:3: expected '==', found '='}.
 */
public final class ExpressionException extends Exception {

  ExpressionException(String message) {
    super(message, null, false, false);
  }
}
