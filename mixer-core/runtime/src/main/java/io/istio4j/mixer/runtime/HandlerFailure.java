package io.istio4j.mixer.runtime;

/**
 * A handler call that threw, was refused, was cancelled or missed its deadline. The message is
 * safe to send to clients: it names what happened, never a Java class.
 */
final class HandlerFailure extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a call failed, for the dispatch metrics. */
  enum Kind {
    ERROR, TIMEOUT, CANCELLED
  }

  final Kind kind;

  HandlerFailure(String message, Kind kind) {
    super(message, null, false, false);
    this.kind = kind;
  }
}
