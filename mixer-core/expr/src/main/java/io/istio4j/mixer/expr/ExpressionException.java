package io.istio4j.mixer.expr;

/**
 * An expression that cannot be compiled: it does not parse, names an unknown attribute or
 * function, or does not type-check. The message is upstream's text where upstream had one, e.g.
 * {@code unable to parse expression 'a = 2': 1:3: expected '==', found '='}.
 */
public final class ExpressionException extends Exception {

  /** Messages longer than this keep their start and their end (where the reason is). */
  static final int MAX_MESSAGE_LENGTH = 2048;

  ExpressionException(String message) {
    super(abbreviate(message), null, false, false);
  }

  /**
   * An expression of 100,000 terms would otherwise be quoted whole in the config status page and
   * the log; the start names the expression, the end says what is wrong with it.
   */
  static String abbreviate(String message) {
    if (message.length() <= MAX_MESSAGE_LENGTH) {
      return message;
    }
    int keep = MAX_MESSAGE_LENGTH / 2;
    return message.substring(0, keep) + " [... " + (message.length() - 2 * keep) + " characters ...] "
        + message.substring(message.length() - keep);
  }
}
