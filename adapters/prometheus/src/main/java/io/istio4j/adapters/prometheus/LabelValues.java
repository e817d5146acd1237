package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.GoValues;
import java.util.Arrays;

/**
 * The raw dimension values of one series, in the metric's label order: the key of a metric's
 * data point cache. A handler fills a per-thread mutable probe from an instance's dimensions and
 * looks it up without allocating; only a miss copies the probe into an immutable key. Values are
 * compared as they came (a {@code Long} 200 and a {@code String} "200" are two keys for one series);
 * IP addresses ({@code byte[]}) by content.
 */
final class LabelValues {

  /** What ends a label value cut to the limit, so that a reader of the series sees it was cut. */
  static final String TRUNCATED = "...(truncated)";

  private Object[] values;
  private int size;
  private int hash;

  private LabelValues(Object[] values, int size, int hash) {
    this.values = values;
    this.size = size;
    this.hash = hash;
  }

  /** A reusable probe; {@link #start} it before each use. */
  static LabelValues probe() {
    return new LabelValues(new Object[8], 0, 0);
  }

  /** An immutable key holding {@code values}, for tests and for copies. */
  static LabelValues of(Object... values) {
    LabelValues key = new LabelValues(new Object[values.length], 0, 0);
    key.start(values.length);
    for (Object v : values) {
      key.add(v);
    }
    return key;
  }

  /** Empties the probe for {@code count} values. */
  void start(int count) {
    if (values.length < count) {
      values = new Object[Math.max(count, values.length * 2)];
    }
    size = 0;
    hash = 1;
  }

  /** Appends the next value, in label order. */
  void add(Object value) {
    values[size++] = value;
    hash = 31 * hash + (value instanceof byte[] b ? Arrays.hashCode(b) : value.hashCode());
  }

  /** Drops the probe's references so that it keeps no request's values alive. */
  void clear() {
    Arrays.fill(values, 0, size, null);
    size = 0;
  }

  /** An immutable copy of this probe, to store in a cache. */
  LabelValues copy() {
    return new LabelValues(Arrays.copyOf(values, size), size, hash);
  }

  /**
   * {@code value} cut to {@code max} characters, the last of them {@link #TRUNCATED}; never
   * splitting a surrogate pair.
   */
  static String truncate(String value, int max) {
    if (value.length() <= max) {
      return value;
    }
    int keep = max - TRUNCATED.length();
    if (keep > 0 && Character.isHighSurrogate(value.charAt(keep - 1))) {
      keep--;
    }
    return value.substring(0, keep) + TRUNCATED;
  }

  /** The label values as Prometheus text ({@code %v}). */
  String[] render() {
    String[] out = new String[size];
    for (int i = 0; i < size; i++) {
      out[i] = GoValues.format(values[i]);
    }
    return out;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof LabelValues other) || other.size != size || other.hash != hash) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      Object a = values[i];
      Object b = other.values[i];
      if (a != b && !(a instanceof byte[] x ? b instanceof byte[] y && Arrays.equals(x, y) : a.equals(b))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return Arrays.toString(render());
  }
}
