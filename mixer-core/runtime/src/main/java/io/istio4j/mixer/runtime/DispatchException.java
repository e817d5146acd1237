package io.istio4j.mixer.runtime;

/**
 * Handlers failed while processing a request. The message names each failed handler and why, in
 * words meant for the client (no Java class names, no stack traces: those are in the server log).
 *
 * <pre>{@code
 * try {
 *   runtime.report(request);
 * } catch (DispatchException e) {
 *   // "prometheus.handler.istio-system:internal error (see server log)"
 *   return Status.INTERNAL.withDescription(e.getMessage());
 * }
 * }</pre>
 */
public final class DispatchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DispatchException(String message) {
    super(message, null, false, false);
  }
}
