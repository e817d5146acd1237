package io.istio4j.mixerclient;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A concurrent map bounded to {@code max} entries, evicting the oldest inserted first. Reads are a
 * plain {@link ConcurrentHashMap} lookup: no lock and no reordering on the hit path, which LRU would
 * need. The insertion queue may hold keys already removed (expired); it is rebuilt when it grows past
 * twice the bound, so it cannot grow without end.
 */
final class BoundedMap<K, V> {
  private final ConcurrentHashMap<K, V> map = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<K> order = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final int max;

  BoundedMap(int max) {
    this.max = max;
  }

  @Nullable V get(K key) {
    return map.get(key);
  }

  boolean containsKey(K key) {
    return map.containsKey(key);
  }

  void put(K key, V value) {
    if (map.put(key, value) == null) {
      inserted(key);
    }
  }

  /** The value under {@code key}, made by {@code create} and inserted when there is none. */
  V computeIfAbsent(K key, Function<K, V> create) {
    V v = map.get(key);
    if (v != null) {
      return v;
    }
    V made = create.apply(key);
    V prior = map.putIfAbsent(key, made);
    if (prior != null) {
      return prior;
    }
    inserted(key);
    return made;
  }

  private void inserted(K key) {
    order.add(key);
    queued.incrementAndGet();
    while (map.size() > max) {
      K oldest = order.poll();
      if (oldest == null) {
        break;
      }
      queued.decrementAndGet();
      map.remove(oldest);
    }
    if (queued.get() > 2 * max + 16) {
      compact();
    }
  }

  void remove(K key, V value) {
    map.remove(key, value);
  }

  int size() {
    return map.size();
  }

  private synchronized void compact() {
    if (queued.get() <= 2 * max + 16) {
      return;
    }
    order.removeIf(k -> !map.containsKey(k));
    int n = 0;
    for (K ignored : order) {
      n++;
    }
    queued.set(n);
  }
}
