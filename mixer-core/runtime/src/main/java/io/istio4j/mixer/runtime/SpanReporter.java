package io.istio4j.mixer.runtime;

import io.istio4j.adapter.ReportedSpan;

/**
 * Where {@link io.istio4j.adapter.Env#reportSpan(ReportedSpan)} sends spans: Mixer's trace reporter,
 * which the server builds from {@code --zipkinURL}. The runtime knows no tracer.
 *
 * <pre>{@code
 * MixerRuntime runtime = new MixerRuntime(templates, adapters, options, registry, clock, tracing::report);
 * }</pre>
 */
@FunctionalInterface
public interface SpanReporter {

  /** No reporter: every span is refused. */
  SpanReporter NONE = span -> false;

  /** Queues {@code span} without blocking; false when there is no reporter. */
  boolean report(ReportedSpan span);

  /** True when spans are delivered somewhere. */
  default boolean enabled() {
    return this != NONE;
  }
}
