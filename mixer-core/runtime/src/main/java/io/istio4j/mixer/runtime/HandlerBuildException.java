package io.istio4j.mixer.runtime;

/**
 * A handler that could not be built; the message names the handler, adapter and reason. {@link
 * #retryable()} tells a failure of the adapter's own build step (a port in use, a backend not
 * reachable yet), which may pass, from a config the adapter refused, which will not.
 */
public final class HandlerBuildException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean retryable;

  HandlerBuildException(String message) {
    super(message);
    this.retryable = false;
  }

  HandlerBuildException(String message, Throwable cause) {
    super(message, cause);
    this.retryable = false;
  }

  private HandlerBuildException(String message, Throwable cause, boolean retryable) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** A failure of the adapter's build step, which building again later may get past. */
  static HandlerBuildException retryable(String message, Throwable cause) {
    return new HandlerBuildException(message, cause, true);
  }

  /** True when building again later may succeed with the same config. */
  public boolean retryable() {
    return retryable;
  }
}
