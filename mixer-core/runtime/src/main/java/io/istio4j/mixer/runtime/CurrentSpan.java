package io.istio4j.mixer.runtime;

import io.istio4j.adapter.Span;

/**
 * The span of the handler call running on this thread, which {@link HandlerEnv#currentSpan()}
 * returns. Set only around traced calls, so an untraced request touches no thread-local.
 */
final class CurrentSpan {

  private static final ThreadLocal<Span> CURRENT = new ThreadLocal<>();

  private CurrentSpan() {}

  static Span get() {
    Span s = CURRENT.get();
    return s == null ? Span.NOOP : s;
  }

  /** Makes {@code span} current; returns what was, for {@link #restore(Span)}. */
  static Span enter(Span span) {
    Span previous = CURRENT.get();
    CURRENT.set(span);
    return previous;
  }

  static void restore(Span previous) {
    if (previous == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(previous);
    }
  }
}
