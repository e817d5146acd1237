package io.istio4j.mixerclient;

import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Mixer's Check answers, keyed on the attributes each answer referenced (spec §7.3).
 *
 * <p>After a Check, the answer's ReferencedAttributes become a {@link ReferencedShape}; the answer
 * is stored under the request's values for that shape's EXACT references. A later request hits when,
 * under some known shape, all EXACT references are present with the same values, every ABSENCE
 * reference (attribute or map key) is absent, the entry has not outlived its {@code valid_duration}
 * and it has uses left.
 *
 * <p>Uses: Mixer's {@code valid_use_count} counts the Check that produced the answer, so an entry
 * serves {@code valid_use_count - 1} hits; a negative count is unlimited. Not cached: answers that
 * reference a REGEX match, answers without {@code valid_duration} (mixerclient would keep those
 * forever; a client that outlives a policy change must not), and answers valid for one use or none.
 */
final class CheckCache {

  /** One cached precondition. */
  static final class Entry {
    final int code;
    final String message;
    final long expiresAt;
    /** Hits left; negative = unlimited. */
    final AtomicInteger uses;

    Entry(int code, String message, long expiresAt, int uses) {
      this.code = code;
      this.message = message;
      this.expiresAt = expiresAt;
      this.uses = new AtomicInteger(uses);
    }

    /** Takes one use; false when none is left. */
    boolean use() {
      while (true) {
        int u = uses.get();
        if (u < 0) {
          return true;
        }
        if (u == 0) {
          return false;
        }
        if (uses.compareAndSet(u, u - 1)) {
          return true;
        }
      }
    }
  }

  private final ShapeSet shapes;
  private final BoundedMap<CacheKey, Entry> entries;

  CheckCache(int maxEntries, int maxShapes) {
    this.entries = new BoundedMap<>(maxEntries);
    this.shapes = new ShapeSet(maxShapes);
  }

  /** The cached answer for {@code attrs} at time {@code now} (taking one use), or null. */
  @Nullable Entry lookup(Attributes attrs, long now) {
    CacheKey key = shapes.find(attrs, null, entries::containsKey);
    if (key == null) {
      return null;
    }
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (now - e.expiresAt >= 0 || !e.use()) {
      entries.remove(key, e);
      return null;
    }
    return e;
  }

  /** Stores Mixer's answer to {@code request}; false when the answer may not be cached. */
  boolean store(Attributes request, PreconditionResult p, long now) {
    if (!p.hasValidDuration()) {
      return false;
    }
    long validNanos = Durations.toNanos(p.getValidDuration());
    int count = p.getValidUseCount();
    if (validNanos <= 0 || count == 0 || count == 1) {
      return false;
    }
    ReferencedShape shape = ReferencedShape.decode(p.getReferencedAttributes(), request);
    if (shape == null || !shapes.add(shape)) {
      return false;
    }
    Object[] values = shape.key(request);
    if (values == null) {
      // The server named as ABSENT something the request has (or the reverse): not a key to trust.
      return false;
    }
    entries.put(new CacheKey(shape, null, values), new Entry(p.getStatus().getCode(),
        p.getStatus().getMessage(), now + validNanos, count < 0 ? -1 : count - 1));
    return true;
  }

  int size() {
    return entries.size();
  }

  int shapeCount() {
    return shapes.size();
  }
}
