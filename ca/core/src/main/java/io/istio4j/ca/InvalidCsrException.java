package io.istio4j.ca;

/** A CSR the CA cannot sign whoever asks: malformed, badly signed, a weak key, no or bad SANs. */
public final class InvalidCsrException extends Exception {
  private static final long serialVersionUID = 1L;

  /** With a message that names the problem. */
  public InvalidCsrException(String message) {
    super(message);
  }

  /** With a message and the underlying cause. */
  public InvalidCsrException(String message, Throwable cause) {
    super(message, cause);
  }
}
