package io.istio4j.mixerclient;

import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The shapes seen so far, in the order first seen. Read on every lookup without a lock; written
 * only when a new shape arrives, which stops once the rules' shapes have all been seen. Bounded: a
 * server that answered each request with new references would otherwise grow it without end.
 */
final class ShapeSet {
  private final CopyOnWriteArrayList<ReferencedShape> shapes = new CopyOnWriteArrayList<>();
  private final int max;

  ShapeSet(int max) {
    this.max = max;
  }

  /** Remembers {@code shape}; false when the set is full and the shape new (do not cache then). */
  boolean add(ReferencedShape shape) {
    if (shapes.contains(shape)) {
      return true;
    }
    if (shapes.size() >= max) {
      return false;
    }
    shapes.addIfAbsent(shape);
    return true;
  }

  /** The first key of {@code attrs} under a known shape for which {@code present} holds, or null. */
  @Nullable CacheKey find(Attributes attrs, @Nullable String quota, KeyFilter present) {
    for (ReferencedShape shape : shapes) {
      Object[] values = shape.key(attrs);
      if (values != null) {
        CacheKey key = new CacheKey(shape, quota, values);
        if (present.test(key)) {
          return key;
        }
      }
    }
    return null;
  }

  int size() {
    return shapes.size();
  }

  /** Whether a key has an entry. */
  @FunctionalInterface
  interface KeyFilter {
    boolean test(CacheKey key);
  }
}
