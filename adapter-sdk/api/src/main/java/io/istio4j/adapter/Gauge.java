package io.istio4j.adapter;

/**
 * A value that goes up and down on Mixer's {@code /metrics} (a queue length, a cache size), one
 * series per combination of label values. Get it from {@link AdapterMetrics#gauge}.
 *
 * <p>Resolve the series a handler uses once, when it is built, and keep the {@link Child}.
 *
 * <pre>{@code
 * Gauge.Child queued = env.metrics()
 *     .gauge("acme_queued_lines", "Lines waiting to be written", "output")
 *     .labelValues(outputName);   // once, at build time
 * ...
 * queued.set(queue.size());       // whenever it changes
 * }</pre>
 *
 * <p>Implementations are thread-safe. This is the SDK's own type, so an adapter does not depend on
 * the metrics library Mixer uses to expose it.
 */
public interface Gauge {

  /**
   * The series with these label values, one per label name the gauge was created with, in that
   * order; asking again for the same values gives the same series.
   *
   * @throws IllegalArgumentException if the number of values differs from the number of label names
   */
  Child labelValues(String... labelValues);

  /** Sets a gauge created without label names. */
  default void set(double value) {
    labelValues().set(value);
  }

  /** One series of a {@link Gauge}: the value for one combination of label values. */
  interface Child {

    /** Sets the value. */
    void set(double value);

    /** Adds one. */
    default void inc() {
      inc(1);
    }

    /** Adds {@code amount} (which may be negative). */
    void inc(double amount);

    /** Subtracts one. */
    default void dec() {
      inc(-1);
    }

    /** Subtracts {@code amount}. */
    default void dec(double amount) {
      inc(-amount);
    }
  }
}
