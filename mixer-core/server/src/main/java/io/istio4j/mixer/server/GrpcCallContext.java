package io.istio4j.mixer.server;

import io.grpc.Context;
import io.grpc.Deadline;
import io.istio4j.adapter.Span;
import io.istio4j.mixer.runtime.CallContext;
import java.util.concurrent.TimeUnit;

/** A gRPC call as the runtime sees it: the call's {@link Context}, its deadline and cancellation. */
final class GrpcCallContext implements CallContext {

  /** Mixer's server span of a traced call, put there by {@link MixerTracing}'s interceptor. */
  static final Context.Key<Span> SPAN = Context.key("istio4j-mixer-span");

  private final Context context;

  private GrpcCallContext(Context context) {
    this.context = context;
  }

  /** The call being served on this thread. */
  static CallContext current() {
    return new GrpcCallContext(Context.current());
  }

  @Override
  public long deadlineNanos() {
    Deadline d = context.getDeadline();
    if (d == null) {
      return Long.MAX_VALUE;
    }
    return System.nanoTime() + d.timeRemaining(TimeUnit.NANOSECONDS);
  }

  @Override
  public boolean isCancelled() {
    return context.isCancelled();
  }

  @Override
  public void onCancel(Runnable listener) {
    // gRPC also cancels a call's context when the call completes normally; the listener's work is
    // then a no-op because everything it would stop has finished.
    context.addListener(c -> listener.run(), Runnable::run);
  }

  @Override
  public Runnable wrap(Runnable work) {
    return context.wrap(work);
  }

  @Override
  public Span span() {
    Span span = SPAN.get(context);
    return span == null ? Span.NOOP : span;
  }
}
