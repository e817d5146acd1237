package io.istio4j.adapter;

/**
 * A configured adapter ready to serve requests, built by a {@link HandlerBuilder}. A handler
 * implements the generated {@code <Name>Handler} interface of every template its adapter supports.
 * Mixer calls {@link #close()} once no request uses the handler any more (after a config change
 * replaced it, or at shutdown); close releases connections and cancels background work.
 *
 * <pre>{@code
 * final class DenyHandler implements CheckNothingHandler {
 *   public CheckResult handleCheckNothing(CheckNothingInstance instance) {
 *     return CheckResult.of(Status.of(Status.Code.PERMISSION_DENIED, "not allowed"),
 *         Duration.ofSeconds(5), 1000);
 *   }
 *   public void close() {}
 * }
 * }</pre>
 */
public interface Handler extends AutoCloseable {

  /** Releases what the handler holds. Must not throw for an already-closed handler. */
  @Override
  void close() throws Exception;
}
