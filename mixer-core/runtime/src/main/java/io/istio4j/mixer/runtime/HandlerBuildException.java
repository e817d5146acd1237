package io.istio4j.mixer.runtime;

/** A handler that could not be built; the message names the handler, adapter and reason. */
public final class HandlerBuildException extends Exception {
  private static final long serialVersionUID = 1L;

  HandlerBuildException(String message) {
    super(message);
  }

  HandlerBuildException(String message, Throwable cause) {
    super(message, cause);
  }
}
