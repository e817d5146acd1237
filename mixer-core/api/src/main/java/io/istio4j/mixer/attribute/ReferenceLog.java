package io.istio4j.mixer.attribute;

import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The attribute lookups made while handling one request, and their encoding as
 * {@code ReferencedAttributes} against the client's global word count.
 *
 * <p>Recording appends to small arrays (allocated on first use); duplicates are removed when
 * encoding. Not thread-safe: a request's lookups happen on one thread at a time.
 *
 * <pre>{@code
 * ReferencedAttributes refs = bag.references().encode(globalWordCount);
 * bag.references().clear();   // before recording the next quota's lookups
 * }</pre>
 */
public final class ReferenceLog {

  /** One recorded lookup, for tests and tools. */
  public record Reference(String name, String mapKey, Condition condition) {}

  // Lookups are recorded as ints (ids and a condition bit), so recording stores no references.
  private int[] names; // AttributeName id << 1 | (exact ? 1 : 0)
  private int count;
  private long[] keys; // map's AttributeName id << 33 | key id << 1 | (exact ? 1 : 0)
  private int keyCount;
  private List<MapKey> unregistered; // keys with no registry id, by -id - 1

  void exact(AttributeName name) {
    add(name.id() << 1 | 1);
  }

  void absent(AttributeName name) {
    add(name.id() << 1);
  }

  void exactKey(AttributeName map, MapKey key) {
    addKey(map, key, 1);
  }

  void absentKey(AttributeName map, MapKey key) {
    addKey(map, key, 0);
  }

  private void add(int entry) {
    int[] n = names;
    if (n == null || count == n.length) {
      n = growNames();
    }
    n[count++] = entry;
  }

  private int[] growNames() {
    names = names == null ? new int[8] : Arrays.copyOf(names, count * 2);
    return names;
  }

  private void addKey(AttributeName map, MapKey key, int exact) {
    int keyId = key.id();
    if (keyId < 0) {
      keyId = addUnregistered(key);
    }
    long[] k = keys;
    if (k == null || keyCount == k.length) {
      k = growKeys();
    }
    k[keyCount++] = (long) map.id() << 33 | (keyId & 0xffffffffL) << 1 | exact;
  }

  private int addUnregistered(MapKey key) {
    if (unregistered == null) {
      unregistered = new ArrayList<>();
    }
    unregistered.add(key);
    return -unregistered.size();
  }

  private long[] growKeys() {
    keys = keys == null ? new long[4] : Arrays.copyOf(keys, keyCount * 2);
    return keys;
  }

  private static AttributeName nameOf(int entry) {
    return NameTable.byId(entry >>> 1);
  }

  private AttributeName mapOf(long entry) {
    return NameTable.byId((int) (entry >>> 33));
  }

  private MapKey keyOf(long entry) {
    int keyId = (int) (entry >>> 1);
    return keyId >= 0 ? MapKey.byId(keyId) : unregistered.get(-keyId - 1);
  }

  /** True when nothing was recorded since the last {@link #clear()}. */
  public boolean isEmpty() {
    return count == 0 && keyCount == 0;
  }

  /** Forgets everything recorded. */
  public void clear() {
    count = 0;
    keyCount = 0;
    if (unregistered != null) {
      unregistered.clear();
    }
  }

  /** The distinct lookups recorded, in first-recorded order. */
  public List<Reference> toList() {
    List<Reference> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (firstOf(i)) {
        out.add(new Reference(nameOf(names[i]).name(), null, condition(names[i] & 1)));
      }
    }
    for (int i = 0; i < keyCount; i++) {
      if (firstKeyOf(i)) {
        out.add(new Reference(mapOf(keys[i]).name(), keyOf(keys[i]).key(), condition((int) keys[i] & 1)));
      }
    }
    return out;
  }

  /**
   * Encodes the distinct lookups. Names and keys that are global words below
   * {@code globalWordCount} are sent as global indexes; every other word goes to the message's own
   * dictionary, so the client never sees a global index it does not know.
   */
  public ReferencedAttributes encode(int globalWordCount) {
    ReferencedAttributes.Builder b = ReferencedAttributes.newBuilder();
    int usable = Math.min(Math.max(globalWordCount, 0), GlobalDictionary.SIZE);
    List<String> words = null;
    for (int i = 0; i < count; i++) {
      if (!firstOf(i)) {
        continue;
      }
      AttributeName n = nameOf(names[i]);
      int index = n.id() < usable ? n.id() : -1;
      if (index < 0) {
        words = words == null ? new ArrayList<>() : words;
        index = slot(words, n.name());
      }
      b.addAttributeMatches(AttributeMatch.newBuilder()
          .setName(index)
          .setCondition(condition(names[i] & 1)));
    }
    for (int i = 0; i < keyCount; i++) {
      if (!firstKeyOf(i)) {
        continue;
      }
      AttributeName n = mapOf(keys[i]);
      int nameIndex = n.id() < usable ? n.id() : -1;
      if (nameIndex < 0) {
        words = words == null ? new ArrayList<>() : words;
        nameIndex = slot(words, n.name());
      }
      MapKey k = keyOf(keys[i]);
      int keyIndex = k.globalIndex() >= 0 && k.globalIndex() < usable ? k.globalIndex() : -1;
      if (keyIndex < 0) {
        words = words == null ? new ArrayList<>() : words;
        keyIndex = slot(words, k.key());
      }
      b.addAttributeMatches(AttributeMatch.newBuilder()
          .setName(nameIndex)
          .setMapKey(keyIndex)
          .setCondition(condition((int) keys[i] & 1)));
    }
    if (words != null) {
      b.addAllWords(words);
    }
    return b.build();
  }

  private static int slot(List<String> words, String word) {
    int at = words.indexOf(word);
    if (at < 0) {
      at = words.size();
      words.add(word);
    }
    return -at - 1;
  }

  private boolean firstOf(int i) {
    int id = names[i] >>> 1;
    for (int j = 0; j < i; j++) {
      if (names[j] >>> 1 == id) {
        return false;
      }
    }
    return true;
  }

  private boolean firstKeyOf(int i) {
    AttributeName map = mapOf(keys[i]);
    MapKey key = keyOf(keys[i]);
    for (int j = 0; j < i; j++) {
      if (mapOf(keys[j]) == map && keyOf(keys[j]).equals(key)) {
        return false;
      }
    }
    return true;
  }

  private static Condition condition(int exact) {
    return exact == 1 ? Condition.EXACT : Condition.ABSENCE;
  }
}
