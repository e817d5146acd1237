package io.istio4j.adapter;

/**
 * A span of the trace Mixer records for the request a handler is serving: the handler's own span
 * (named {@code <template>:<handler>(<adapter>)}), which the handler may tag or give children to, for
 * example one around a call to its backend. Get it with {@link Env#currentSpan()} on the thread
 * Mixer called the handler on. When the request is not traced (no {@code --zipkinURL}, or not
 * sampled) it is {@link #NOOP}: every method does nothing, so a handler needs no checks of its own.
 *
 * <pre>{@code
 * Span redis = env.currentSpan().child("redis EVALSHA");
 * try {
 *   long granted = script.run(key, amount);
 *   redis.tag("redis.granted", Long.toString(granted));
 * } catch (RuntimeException e) {
 *   redis.error(e);
 *   throw e;
 * } finally {
 *   redis.finish();
 * }
 * }</pre>
 *
 * <p>This is the SDK's own small interface, not a tracing library's type, so an adapter depends on
 * no tracer and Mixer may change its tracer without breaking adapters (docs/RATIONALE.md).
 */
public interface Span {

  /** A span that records nothing: what an untraced request gets. */
  Span NOOP = new Span() {
    @Override
    public boolean isRecording() {
      return false;
    }

    @Override
    public Span tag(String key, String value) {
      return this;
    }

    @Override
    public Span child(String name) {
      return this;
    }

    @Override
    public Span error(Throwable error) {
      return this;
    }

    @Override
    public void finish() {}

    @Override
    public String toString() {
      return "Span.NOOP";
    }
  };

  /**
   * True when the span is sampled and will be reported; a handler may skip building expensive tags
   * when false.
   */
  boolean isRecording();

  /** Adds a tag (key and value); a later tag with the same key replaces it. */
  Span tag(String key, String value);

  /** Starts a child span named {@code name} now; the caller must {@link #finish()} it. */
  Span child(String name);

  /** Marks the span as failed with {@code error} (tagged {@code error}). */
  Span error(Throwable error);

  /** Ends the span now; later calls do nothing. */
  void finish();
}
