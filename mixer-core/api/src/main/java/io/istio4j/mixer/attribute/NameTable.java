package io.istio4j.mixer.attribute;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The process-wide table of interned attribute names. Readers (request threads) see an immutable
 * open-addressing table keyed by UTF-8 bytes, so a name sent in a message dictionary resolves to its
 * id without building a String; writers (config loading) copy the table and publish the copy.
 */
final class NameTable {

  private static final class Snapshot {
    final AttributeName[] byId;
    final AttributeName[] slots; // open addressing, power-of-two length, load factor <= 0.5

    Snapshot(AttributeName[] byId) {
      this.byId = byId;
      int cap = Integer.highestOneBit(Math.max(16, byId.length * 2 - 1)) << 1;
      slots = new AttributeName[cap];
      for (AttributeName n : byId) {
        int i = n.hash() & (cap - 1);
        while (slots[i] != null) {
          i = (i + 1) & (cap - 1);
        }
        slots[i] = n;
      }
    }
  }

  private static final Object LOCK = new Object();
  private static final Map<String, AttributeName> BY_NAME = new HashMap<>();
  private static final List<AttributeName> ALL = new ArrayList<>();
  private static volatile Snapshot snapshot;

  static {
    synchronized (LOCK) {
      for (int i = 0; i < GlobalDictionary.SIZE; i++) {
        AttributeName n = new AttributeName(i, GlobalDictionary.word(i));
        ALL.add(n);
        BY_NAME.put(n.name(), n);
      }
      snapshot = new Snapshot(ALL.toArray(new AttributeName[0]));
    }
  }

  private NameTable() {}

  static AttributeName intern(String name) {
    synchronized (LOCK) {
      AttributeName n = BY_NAME.get(name);
      if (n != null) {
        return n;
      }
      n = new AttributeName(ALL.size(), name);
      ALL.add(n);
      BY_NAME.put(name, n);
      snapshot = new Snapshot(ALL.toArray(new AttributeName[0]));
      return n;
    }
  }

  /** Returns the interned name spelled by these UTF-8 bytes, or null. Allocation-free. */
  static AttributeName find(byte[] buf, int off, int len) {
    Snapshot s = snapshot;
    AttributeName[] slots = s.slots;
    int mask = slots.length - 1;
    for (int i = hash(buf, off, len) & mask; ; i = (i + 1) & mask) {
      AttributeName n = slots[i];
      if (n == null) {
        return null;
      }
      if (n.matches(buf, off, len)) {
        return n;
      }
    }
  }

  static AttributeName byId(int id) {
    return snapshot.byId[id];
  }

  static int size() {
    return snapshot.byId.length;
  }

  static int hash(byte[] buf, int off, int len) {
    int h = 0x811c9dc5;
    for (int i = off, end = off + len; i < end; i++) {
      h = (h ^ buf[i]) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }
}
