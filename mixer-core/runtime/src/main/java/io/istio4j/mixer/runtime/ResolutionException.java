package io.istio4j.mixer.runtime;

/** Rule resolution failed for a request: the identity attribute is missing, or a match failed to evaluate. */
public final class ResolutionException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ResolutionException(String message) {
    super(message, null, false, false);
  }
}
