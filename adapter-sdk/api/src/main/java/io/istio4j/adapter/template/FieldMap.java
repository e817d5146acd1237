package io.istio4j.adapter.template;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The immutable map a map field evaluates to: the keys (and their index) are shared by every
 * instance built from one config, so a request allocates only the map and its value array.
 * Iterates in config order.
 */
final class FieldMap extends AbstractMap<String, Object> {

  private final Index index;
  private final String[] keys;
  private final Object[] values;

  FieldMap(Index index, String[] keys, Object[] values) {
    this.index = index;
    this.keys = keys;
    this.values = values;
  }

  @Override
  public int size() {
    return keys.length;
  }

  @Override
  public boolean containsKey(Object key) {
    return index.indexOf(keys, key) >= 0;
  }

  @Override
  public Object get(Object key) {
    int i = index.indexOf(keys, key);
    return i < 0 ? null : values[i];
  }

  /** Visits the entries in config order without allocating (adapters read dimensions this way). */
  @Override
  public void forEach(BiConsumer<? super String, ? super Object> action) {
    for (int i = 0; i < keys.length; i++) {
      action.accept(keys[i], values[i]);
    }
  }

  @Override
  public Set<Entry<String, Object>> entrySet() {
    return new AbstractSet<>() {
      @Override
      public int size() {
        return keys.length;
      }

      @Override
      public Iterator<Entry<String, Object>> iterator() {
        return new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < keys.length;
          }

          @Override
          public Entry<String, Object> next() {
            if (next >= keys.length) {
              throw new NoSuchElementException();
            }
            int i = next++;
            return new SimpleImmutableEntry<>(keys[i], values[i]);
          }
        };
      }
    };
  }

  /** Finds a key's position: a scan for a few keys, a hash lookup for many. */
  static final class Index {
    private static final int SCAN_LIMIT = 8;
    private final Map<String, Integer> positions;

    private Index(Map<String, Integer> positions) {
      this.positions = positions;
    }

    static Index of(String[] keys) {
      if (keys.length <= SCAN_LIMIT) {
        return new Index(null);
      }
      Map<String, Integer> positions = new HashMap<>();
      for (int i = 0; i < keys.length; i++) {
        positions.put(keys[i], i);
      }
      return new Index(positions);
    }

    int indexOf(String[] keys, Object key) {
      if (positions != null) {
        Integer i = positions.get(key);
        return i == null ? -1 : i;
      }
      for (int i = 0; i < keys.length; i++) {
        if (keys[i].equals(key)) {
          return i;
        }
      }
      return -1;
    }
  }
}
