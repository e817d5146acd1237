package io.istio4j.mixer.attribute;

import io.istio4j.mixer.v1.ReferencedAttributes;
import io.istio4j.mixer.v1.ReferencedAttributes.AttributeMatch;
import io.istio4j.mixer.v1.ReferencedAttributes.Condition;
import java.util.ArrayList;
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

  private static final byte ABSENCE = 1;
  private static final byte EXACT = 2;

  private AttributeName[] names;
  private byte[] conditions;
  private int count;

  private AttributeName[] mapNames;
  private MapKey[] keys;
  private byte[] keyConditions;
  private int keyCount;

  void exact(AttributeName name) {
    add(name, EXACT);
  }

  void absent(AttributeName name) {
    add(name, ABSENCE);
  }

  void exactKey(AttributeName map, MapKey key) {
    addKey(map, key, EXACT);
  }

  void absentKey(AttributeName map, MapKey key) {
    addKey(map, key, ABSENCE);
  }

  private void add(AttributeName name, byte condition) {
    if (names == null) {
      names = new AttributeName[8];
      conditions = new byte[8];
    } else if (count == names.length) {
      names = java.util.Arrays.copyOf(names, count * 2);
      conditions = java.util.Arrays.copyOf(conditions, count * 2);
    }
    names[count] = name;
    conditions[count++] = condition;
  }

  private void addKey(AttributeName map, MapKey key, byte condition) {
    if (mapNames == null) {
      mapNames = new AttributeName[4];
      keys = new MapKey[4];
      keyConditions = new byte[4];
    } else if (keyCount == mapNames.length) {
      mapNames = java.util.Arrays.copyOf(mapNames, keyCount * 2);
      keys = java.util.Arrays.copyOf(keys, keyCount * 2);
      keyConditions = java.util.Arrays.copyOf(keyConditions, keyCount * 2);
    }
    mapNames[keyCount] = map;
    keys[keyCount] = key;
    keyConditions[keyCount++] = condition;
  }

  /** True when nothing was recorded since the last {@link #clear()}. */
  public boolean isEmpty() {
    return count == 0 && keyCount == 0;
  }

  /** Forgets everything recorded. */
  public void clear() {
    count = 0;
    keyCount = 0;
  }

  /** The distinct lookups recorded, in first-recorded order. */
  public List<Reference> toList() {
    List<Reference> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (firstOf(i)) {
        out.add(new Reference(names[i].name(), null, condition(conditions[i])));
      }
    }
    for (int i = 0; i < keyCount; i++) {
      if (firstKeyOf(i)) {
        out.add(new Reference(mapNames[i].name(), keys[i].key(), condition(keyConditions[i])));
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
      AttributeName n = names[i];
      int index = n.id() < usable ? n.id() : -1;
      if (index < 0) {
        words = words == null ? new ArrayList<>() : words;
        index = slot(words, n.name());
      }
      b.addAttributeMatches(AttributeMatch.newBuilder()
          .setName(index)
          .setCondition(condition(conditions[i])));
    }
    for (int i = 0; i < keyCount; i++) {
      if (!firstKeyOf(i)) {
        continue;
      }
      AttributeName n = mapNames[i];
      int nameIndex = n.id() < usable ? n.id() : -1;
      if (nameIndex < 0) {
        words = words == null ? new ArrayList<>() : words;
        nameIndex = slot(words, n.name());
      }
      MapKey k = keys[i];
      int keyIndex = k.globalIndex() >= 0 && k.globalIndex() < usable ? k.globalIndex() : -1;
      if (keyIndex < 0) {
        words = words == null ? new ArrayList<>() : words;
        keyIndex = slot(words, k.key());
      }
      b.addAttributeMatches(AttributeMatch.newBuilder()
          .setName(nameIndex)
          .setMapKey(keyIndex)
          .setCondition(condition(keyConditions[i])));
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
    AttributeName n = names[i];
    for (int j = 0; j < i; j++) {
      if (names[j] == n) {
        return false;
      }
    }
    return true;
  }

  private boolean firstKeyOf(int i) {
    for (int j = 0; j < i; j++) {
      if (mapNames[j] == mapNames[i] && keys[j].equals(keys[i])) {
        return false;
      }
    }
    return true;
  }

  private static Condition condition(byte c) {
    return c == EXACT ? Condition.EXACT : Condition.ABSENCE;
  }
}
