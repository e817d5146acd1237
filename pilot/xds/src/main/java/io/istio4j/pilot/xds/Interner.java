package io.istio4j.pilot.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Replaces a freshly translated resource by an equal one from the previous push, so unchanged
 * resources keep their identity: version checks and the serializer's cache then compare by
 * reference, and every client of a resource shares one serialized copy. Holds only what the last
 * and the current push produced. Push thread only.
 */
final class Interner {
  private Map<Message, Message> previous = new HashMap<>();
  private Map<Message, Message> current = new HashMap<>();
  private Map<Message, VersionedResource<?>> previousVersions = new IdentityHashMap<>();
  private Map<Message, VersionedResource<?>> currentVersions = new IdentityHashMap<>();
  private long counter;
  private Map<Message, Object> previousDerived = new IdentityHashMap<>();
  private Map<Message, Object> currentDerived = new IdentityHashMap<>();
  private Map<List<?>, List<?>> previousLists = new HashMap<>();
  private Map<List<?>, List<?>> currentLists = new HashMap<>();
  private Map<String, Map<Object, Object>> previousOfList = new HashMap<>();
  private Map<String, Map<Object, Object>> currentOfList = new HashMap<>();
  private Map<Object, Object> currentMemos = new HashMap<>();

  @SuppressWarnings("unchecked")
  <T extends Message> T intern(T m) {
    Message seen = current.get(m);
    if (seen == null) {
      seen = previous.get(m);
      if (seen == null) {
        seen = m;
      }
      current.put(seen, seen);
    }
    return (T) seen;
  }

  /**
   * The resource with a version of its own: the same for the same instance (interned resources
   * keep theirs across pushes), new for a new one. Only delta clients read these versions.
   */
  @SuppressWarnings("unchecked")
  <T extends Message> VersionedResource<T> versioned(T m) {
    VersionedResource<?> v = currentVersions.get(m);
    if (v == null) {
      v = previousVersions.get(m);
      if (v == null) {
        v = VersionedResource.create(m, Long.toString(++counter, 36));
      }
      currentVersions.put(m, v);
    }
    return (VersionedResource<T>) v;
  }

  /** Something computed from a resource instance, computed once per instance. */
  @SuppressWarnings("unchecked")
  <T> T derived(Message m, Function<Message, T> compute) {
    Object v = currentDerived.get(m);
    if (v == null) {
      v = previousDerived.get(m);
      if (v == null) {
        v = compute.apply(m);
      }
      currentDerived.put(m, v);
    }
    return (T) v;
  }

  /**
   * Something of a kind computed from an immutable list (or another immutable value) instance,
   * computed once per instance: with interned lists, groups sharing a view share the result.
   */
  @SuppressWarnings("unchecked")
  <T> T derivedOf(String kind, Object list, Function<Object, T> compute) {
    Map<Object, Object> current = currentOfList.computeIfAbsent(kind, k -> new IdentityHashMap<>());
    Object v = current.get(list);
    if (v == null) {
      Map<Object, Object> previous = previousOfList.get(kind);
      v = previous == null ? null : previous.get(list);
      if (v == null) {
        v = compute.apply(list);
      }
      current.put(list, v);
    }
    return (T) v;
  }

  /** A memo (keyed by {@code key}) that lives until the end of the current full push. */
  @SuppressWarnings("unchecked")
  <T> T perPush(Object key, Supplier<T> create) {
    return (T) currentMemos.computeIfAbsent(key, k -> create.get());
  }

  /** Every element of a list interned. */
  <T extends Message> List<T> intern(List<T> list) {
    List<T> out = new ArrayList<>(list.size());
    for (T m : list) {
      out.add(intern(m));
    }
    return out;
  }

  /**
   * Every element of a list interned, and the list itself: groups given equal resource lists (the
   * same outbound view) share one immutable list instance, so per-list work of an endpoint push
   * (refreshing, building the snapshot map) is done once for all of them.
   */
  @SuppressWarnings("unchecked")
  <T extends Message> List<T> internList(List<T> list) {
    List<T> elements = List.copyOf(intern(list));
    List<?> seen = currentLists.get(elements);
    if (seen == null) {
      seen = previousLists.get(elements);
      if (seen == null) {
        seen = elements;
      }
      currentLists.put(seen, seen);
    }
    return (List<T>) seen;
  }

  /** The versioned form of every resource of a list. */
  <T extends Message> List<VersionedResource<T>> versioned(List<T> list) {
    List<VersionedResource<T>> out = new ArrayList<>(list.size());
    for (T m : list) {
      out.add(versioned(m));
    }
    return out;
  }

  /** The current full push is done (it rebuilt every group): what it produced is what the next one compares with. */
  void endPush() {
    previous = current;
    current = new HashMap<>(previous.size() * 2);
    previousVersions = currentVersions;
    currentVersions = new IdentityHashMap<>(previousVersions.size() * 2);
    previousDerived = currentDerived;
    currentDerived = new IdentityHashMap<>(previousDerived.size() * 2);
    previousLists = currentLists;
    previousOfList = currentOfList;
    currentMemos = new HashMap<>();
    currentOfList = new HashMap<>();
    currentLists = new HashMap<>(previousLists.size() * 2);
  }
}
