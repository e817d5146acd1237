package io.istio4j.mixer.runtime;

import io.istio4j.adapter.Span;

/**
 * What the transport tells the runtime about one call: its deadline, whether it was cancelled, and
 * how to carry the caller's context (the gRPC {@code Context}, tracing) to the threads that finish
 * it. The runtime knows no transport; the gRPC service implements this over {@code io.grpc.Context}.
 *
 * <pre>{@code
 * CompletionStage<CheckResponse> answer = runtime.check(decoded, CallContext.NONE);
 * }</pre>
 */
public interface CallContext {

  /** No deadline beyond the handler timeout, never cancelled, nothing to carry. */
  CallContext NONE = new CallContext() {
    @Override
    public long deadlineNanos() {
      return Long.MAX_VALUE;
    }

    @Override
    public boolean isCancelled() {
      return false;
    }

    @Override
    public void onCancel(Runnable listener) {}

    @Override
    public Runnable wrap(Runnable work) {
      return work;
    }
  };

  /**
   * The caller's deadline as a {@link System#nanoTime()} value, or {@link Long#MAX_VALUE} when the
   * caller set none.
   */
  long deadlineNanos();

  /** True once the caller cancelled the call or its deadline passed. */
  boolean isCancelled();

  /** Runs {@code listener} once if the call is cancelled (at once when it already is). */
  void onCancel(Runnable listener);

  /** {@code work} wrapped so that it runs in the caller's context on another thread. */
  Runnable wrap(Runnable work);

  /**
   * Mixer's server span for this call, parent of one span per handler call; {@link Span#NOOP} when
   * the call is not traced, and then the runtime records nothing.
   */
  default Span span() {
    return Span.NOOP;
  }
}
