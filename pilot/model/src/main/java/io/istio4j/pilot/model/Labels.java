package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

/**
 * A set of {@code key=value} labels with upstream's subset semantics. Keys are kept sorted, so the
 * string form ({@code k1=v1,k2=v2}; a key with an empty value prints as just {@code k}) is stable.
 */
public final class Labels {
  /** No labels: a subset of every label set. */
  public static final Labels EMPTY = new Labels(new TreeMap<>());

  private final TreeMap<String, String> map;
  private final int hash;

  private Labels(TreeMap<String, String> map) {
    this.map = map;
    this.hash = map.hashCode();
  }

  /** Labels holding a copy of {@code map}. */
  public static Labels of(Map<String, String> map) {
    requireNonNull(map, "map");
    if (map.isEmpty()) {
      return EMPTY;
    }
    for (Map.Entry<String, String> e : map.entrySet()) {
      requireNonNull(e.getKey(), "label key");
      requireNonNull(e.getValue(), () -> "value of label " + e.getKey());
    }
    return new Labels(new TreeMap<>(map));
  }

  /** Labels from alternating keys and values. */
  public static Labels of(String... keysAndValues) {
    if (keysAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("labels need key/value pairs, got " + keysAndValues.length + " strings");
    }
    TreeMap<String, String> m = new TreeMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return of(m);
  }

  /** The labels as an unmodifiable sorted map. */
  public Map<String, String> asMap() {
    return Collections.unmodifiableMap(map);
  }

  public boolean isEmpty() {
    return map.isEmpty();
  }

  public int size() {
    return map.size();
  }

  /** True when every {@code k=v} here is also in {@code that}. Empty labels are a subset of all. */
  public boolean subsetOf(Labels that) {
    if (map.size() > that.map.size()) {
      return false;
    }
    for (Map.Entry<String, String> e : map.entrySet()) {
      if (!e.getValue().equals(that.map.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Labels other && hash == other.hash && map.equals(other.map);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  /** Upstream's string form: sorted {@code k=v} pairs joined by commas. */
  @Override
  public String toString() {
    StringJoiner j = new StringJoiner(",");
    for (Map.Entry<String, String> e : map.entrySet()) {
      j.add(e.getValue().isEmpty() ? e.getKey() : e.getKey() + "=" + e.getValue());
    }
    return j.toString();
  }
}
