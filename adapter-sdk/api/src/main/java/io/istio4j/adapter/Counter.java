package io.istio4j.adapter;

/**
 * A monotonically increasing count on Mixer's {@code /metrics}, one series per combination of label
 * values. Get it from {@link AdapterMetrics#counter}; it is exposed with {@code _total} appended to
 * its name.
 *
 * <p>Resolve the series a handler uses once, when it is built, and keep the {@link Child}: {@link
 * #labelValues} looks the series up, {@link Child#inc()} only adds.
 *
 * <pre>{@code
 * Counter failures = env.metrics().counter("acme_failures",
 *     "Calls answered by the failure policy", "backend", "reason");
 * Counter.Child unreachable = failures.labelValues(address, "unreachable"); // once, at build time
 * ...
 * unreachable.inc();                                                       // per failure
 * }</pre>
 *
 * <p>Implementations are thread-safe. This is the SDK's own type, so an adapter does not depend on
 * the metrics library Mixer uses to expose it.
 */
public interface Counter {

  /**
   * The series with these label values, one per label name the counter was created with, in that
   * order; asking again for the same values gives the same series.
   *
   * @throws IllegalArgumentException if the number of values differs from the number of label names
   */
  Child labelValues(String... labelValues);

  /** Adds one to a counter created without label names. */
  default void inc() {
    labelValues().inc();
  }

  /** Adds {@code amount} to a counter created without label names. */
  default void inc(double amount) {
    labelValues().inc(amount);
  }

  /** One series of a {@link Counter}: the count for one combination of label values. */
  interface Child {

    /** Adds one. */
    void inc();

    /**
     * Adds {@code amount}.
     *
     * @throws IllegalArgumentException if {@code amount} is negative
     */
    void inc(double amount);
  }
}
