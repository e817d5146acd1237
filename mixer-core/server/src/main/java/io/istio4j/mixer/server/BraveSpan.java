package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import brave.Tracer;
import io.istio4j.adapter.Span;

/** The SDK's {@link Span} over a sampled Brave span: what handlers see of Mixer's trace. */
final class BraveSpan implements Span {

  private final Tracer tracer;
  private final brave.Span span;

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
  public Span tag(String key, String value) {
    span.tag(requireNonNull(key, "key"), requireNonNull(value, "value"));
    return this;
  }

  @Override
  public Span child(String name) {
    return new BraveSpan(tracer, tracer.newChild(span.context()).name(requireNonNull(name, "name")).start());
  }

  @Override
  public Span error(Throwable error) {
    span.error(requireNonNull(error, "error"));
    return this;
  }

  @Override
  public void finish() {
    span.finish(); // Brave ignores a second finish
  }

  @Override
  public String toString() {
    return "BraveSpan{" + span.context() + "}";
  }
}
