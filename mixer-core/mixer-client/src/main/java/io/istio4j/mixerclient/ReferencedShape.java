package io.istio4j.mixerclient;

import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The attributes one Mixer answer depended on (its ReferencedAttributes, decoded): which attributes
 * and map keys had to be present (EXACT, their values become the cache key) and which had to be
 * absent (ABSENCE). As mixerclient's "shape": every response with the same references shares one
 * shape, and a request's key under a shape is the values of its EXACT references.
 *
 * <p>A response that references anything with condition REGEX (or a condition this client does not
 * know, or a malformed index) has no shape: it is never cached.
 */
final class ReferencedShape {

  /** A reference to an attribute or, when {@code key} is non-null, one key of a STRING_MAP. */
  record Ref(String name, @Nullable String key) implements Comparable<Ref> {
    @Override
    public int compareTo(Ref o) {
      int c = name.compareTo(o.name);
      if (c != 0) {
        return c;
      }
      return key == null ? (o.key == null ? 0 : -1) : o.key == null ? 1 : key.compareTo(o.key);
    }
  }

  private final Ref[] exact;
  private final Ref[] absent;
  private final int hash;

  private ReferencedShape(Ref[] exact, Ref[] absent) {
    this.exact = exact;
    this.absent = absent;
    this.hash = 31 * Arrays.hashCode(exact) + Arrays.hashCode(absent);
  }

  /**
   * Decodes {@code refs} as returned for {@code request}; null when the answer must not be cached.
   * A {@code map_key} is read only for attributes that are STRING_MAPs in the request, and 0 there
   * means the whole map (the wire cannot tell "no key" from word 0; mixerclient reads it the same).
   */
  static @Nullable ReferencedShape decode(ReferencedAttributes refs, Attributes request) {
    List<String> words = refs.getWordsList();
    TreeSet<Ref> exact = new TreeSet<>();
    TreeSet<Ref> absent = new TreeSet<>();
    for (AttributeMatch m : refs.getAttributeMatchesList()) {
      String name = AttributesEncoder.word(m.getName(), words);
      if (name == null) {
        return null;
      }
      String key = null;
      if (m.getMapKey() != 0 && request.get(name) instanceof Map) {
        key = AttributesEncoder.word(m.getMapKey(), words);
        if (key == null) {
          return null;
        }
      }
      switch (m.getCondition()) {
        case EXACT -> exact.add(new Ref(name, key));
        case ABSENCE -> absent.add(new Ref(name, key));
        default -> {
          // REGEX: the answer holds for values matching a pattern the client cannot evaluate as a
          // key; CONDITION_UNSPECIFIED and unknown values: nothing safe to key on.
          return null;
        }
      }
    }
    return new ReferencedShape(exact.toArray(new Ref[0]), absent.toArray(new Ref[0]));
  }

  /**
   * The values of {@code attrs} under this shape, or null when {@code attrs} does not fit it: an
   * EXACT reference is missing, or an ABSENCE reference is present.
   */
  Object @Nullable [] key(Attributes attrs) {
    for (Ref r : absent) {
      if (lookup(attrs, r) != null) {
        return null;
      }
    }
    Object[] values = new Object[exact.length];
    for (int i = 0; i < exact.length; i++) {
      Object v = lookup(attrs, exact[i]);
      if (v == null) {
        return null;
      }
      values[i] = v;
    }
    return values;
  }

  private static @Nullable Object lookup(Attributes attrs, Ref r) {
    Object v = attrs.get(r.name());
    if (r.key() == null || v == null) {
      return v;
    }
    return v instanceof Map<?, ?> m ? m.get(r.key()) : null;
  }

  /** The references, for tests and logs. */
  List<String> describe() {
    List<String> out = new ArrayList<>();
    for (Ref r : exact) {
      out.add(r.name() + (r.key() == null ? "" : "[" + r.key() + "]") + " EXACT");
    }
    for (Ref r : absent) {
      out.add(r.name() + (r.key() == null ? "" : "[" + r.key() + "]") + " ABSENCE");
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReferencedShape s && hash == s.hash && Arrays.equals(exact, s.exact)
        && Arrays.equals(absent, s.absent);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "ReferencedShape" + describe();
  }
}
