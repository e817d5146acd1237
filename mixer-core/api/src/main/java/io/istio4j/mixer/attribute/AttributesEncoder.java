package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.StringMap;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes attributes into {@code CompressedAttributes} for clients: words that are global words
 * below the agreed {@code globalWordCount} travel as global indexes, all others through the
 * message dictionary (negative indexes).
 *
 * <pre>{@code
 * CompressedAttributes wire = AttributesEncoder.encode(
 *     Map.of("destination.service", "ratings.default.svc.cluster.local", "request.size", 512L),
 *     GlobalDictionary.SIZE);
 * }</pre>
 *
 * <p>Accepted values: the types listed on {@link AttributeBag}, plus {@link Integer} (sent as
 * INT64) and {@link InetAddress} (sent as its address bytes).
 */
public final class AttributesEncoder {

  private AttributesEncoder() {}

  /** Encodes {@code attributes} with a dictionary of its own. */
  public static CompressedAttributes encode(Map<String, ?> attributes, int globalWordCount) {
    Dictionary dict = new Dictionary(globalWordCount);
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    attributes.forEach((name, value) -> put(b, dict, name, value));
    return b.addAllWords(dict.words()).build();
  }

  /**
   * Checks that {@code value} is a type this encoder accepts and returns the form it encodes:
   * {@link Integer} widened to {@link Long}, {@link InetAddress} as its address bytes, and copies of
   * {@code byte[]} and maps (so a caller changing its own array or map later changes nothing here).
   *
   * @throws IllegalArgumentException naming the attribute and the expected types
   */
  public static Object normalize(String name, Object value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value of " + name);
    return value instanceof InetAddress a ? a.getAddress() : MutableAttributeBag.normalize(name, value);
  }

  /**
   * The word a dictionary index names in a message: a global word for {@code index >= 0}, else
   * {@code words[-index - 1]}; null when the index is outside both (a malformed message).
   */
  public static String word(int index, List<String> words) {
    if (index >= 0) {
      return index < GlobalDictionary.SIZE ? GlobalDictionary.word(index) : null;
    }
    long slot = -(long) index - 1;
    return slot < words.size() ? words.get((int) slot) : null;
  }

  /** Adds one attribute to {@code b}, assigning words in {@code dict}. */
  static void put(CompressedAttributes.Builder b, Dictionary dict, String name, Object value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value of " + name);
    dict.index(name); // the name's word before the value's, as it always was
    putNormalized(b, dict, name,
        value instanceof InetAddress a ? a.getAddress() : MutableAttributeBag.normalize(name, value));
  }

  /** As {@link #put}, for a value {@link MutableAttributeBag#normalize} already returned. */
  static void putNormalized(CompressedAttributes.Builder b, Dictionary dict, String name, Object v) {
    int n = dict.index(name);
    if (v instanceof String s) {
      b.putStrings(n, dict.index(s));
    } else if (v instanceof Long l) {
      b.putInt64S(n, l);
    } else if (v instanceof Double d) {
      b.putDoubles(n, d);
    } else if (v instanceof Boolean z) {
      b.putBools(n, z);
    } else if (v instanceof Instant t) {
      b.putTimestamps(n, Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build());
    } else if (v instanceof Duration d) {
      b.putDurations(n, com.google.protobuf.Duration.newBuilder()
          .setSeconds(d.getSeconds()).setNanos(d.getNano()).build());
    } else if (v instanceof byte[] bytes) {
      b.putBytes(n, ByteString.copyFrom(bytes));
    } else {
      StringMap.Builder m = StringMap.newBuilder();
      ((Map<?, ?>) v).forEach((k, val) -> m.putEntries(dict.index((String) k), dict.index((String) val)));
      b.putStringMaps(n, m.build());
    }
  }

  /** Assigns dictionary indexes to words: global when allowed, else a message-dictionary slot. */
  static final class Dictionary {
    private final int usableGlobal;
    private final Map<String, Integer> slots = new HashMap<>();
    private final List<String> words = new ArrayList<>();

    Dictionary(int globalWordCount) {
      this.usableGlobal = Math.min(Math.max(globalWordCount, 0), GlobalDictionary.SIZE);
    }

    int index(String word) {
      int g = GlobalDictionary.indexOf(word);
      if (g >= 0 && g < usableGlobal) {
        return g;
      }
      Integer slot = slots.get(word);
      if (slot == null) {
        slot = words.size();
        slots.put(word, slot);
        words.add(word);
      }
      return -slot - 1;
    }

    List<String> words() {
      return words;
    }
  }
}
