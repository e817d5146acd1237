package io.istio4j.mixerclient;

import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A request's key under one {@link ReferencedShape}: the shape, an optional quota name and the
 * values of the shape's EXACT references. Compared by value (arrays element by element), not by a
 * digest, so two different requests can never share an answer through a hash collision.
 */
final class CacheKey {
  private final ReferencedShape shape;
  private final @Nullable String quota;
  private final Object[] values;
  private final int hash;

  CacheKey(ReferencedShape shape, @Nullable String quota, Object[] values) {
    this.shape = shape;
    this.quota = quota;
    this.values = values;
    this.hash = (shape.hashCode() * 31 + Objects.hashCode(quota)) * 31 + Arrays.deepHashCode(values);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CacheKey k && hash == k.hash && shape.equals(k.shape) && Objects.equals(quota, k.quota)
        && Arrays.deepEquals(values, k.values);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
