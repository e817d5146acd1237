package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import brave.Tracer;
import io.istio4j.adapter.Span;

/**
 * The SDK's {@link Span} over a sampled Brave span: what handlers see of Mixer's trace. Tags and
 * errors after {@link #finish()} are ignored: a finished span is already queued for the reporter's
 * thread, which must not see it change.
 */
final class BraveSpan implements Span {

  private final Tracer tracer;
  private final brave.Span span;
  private boolean finished; // guarded by this

  BraveSpan(Tracer tracer, brave.Span span) {
    this.tracer = tracer;
    this.span = span;
  }

  brave.Span delegate() {
    return span;
  }

  @Override
  public boolean isRecording() {
    return !span.isNoop();
  }

  @Override
  public synchronized Span tag(String key, String value) {
    requireNonNull(key, "key");
    requireNonNull(value, "value");
    if (!finished) {
      span.tag(key, value);
    }
    return this;
  }

  @Override
  public Span child(String name) {
    return new BraveSpan(tracer, tracer.newChild(span.context()).name(requireNonNull(name, "name")).start());
  }

  @Override
  public synchronized Span error(Throwable error) {
    requireNonNull(error, "error");
    if (!finished) {
      span.error(error);
    }
    return this;
  }

  @Override
  public synchronized void finish() {
    if (!finished) {
      finished = true;
      span.finish();
    }
  }

  @Override
  public String toString() {
    return "BraveSpan{" + span.context() + "}";
  }
}
