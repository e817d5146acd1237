package io.istio4j.mixer.attribute;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A bag read straight from the bytes of a {@code CompressedAttributes} message.
 *
 * <p>Decoding records, per attribute, its wire name index, its type and its value in primitive
 * arrays; words stay bytes in the request buffer until a lookup needs them as a String. Names
 * resolve to {@link AttributeName} ids once per request, so a lookup is a scan of an int array.
 * When the same attribute occurs twice, the later occurrence on the wire wins.
 *
 * <p>Entries with an index outside both dictionaries, or a value that cannot be represented (a
 * timestamp outside years 1-9999, say), are either rejected ({@link #resolve(boolean) strict}) or
 * left out of the bag (lenient), which is how upstream's Check treats them.
 */
public final class CompressedAttributeBag implements AttributeBag {

  static final byte STRING = 1;
  static final byte INT64 = 2;
  static final byte DOUBLE = 3;
  static final byte BOOL = 4;
  static final byte TIMESTAMP = 5;
  static final byte DURATION = 6;
  static final byte BYTES = 7;
  static final byte STRING_MAP = 8;

  private static final int UNKNOWN = -1;
  private static final int BAD = -2;

  // Protobuf's valid ranges for Timestamp and Duration.
  private static final long MIN_TIMESTAMP_SECONDS = -62_135_596_800L;
  private static final long MAX_TIMESTAMP_SECONDS = 253_402_300_799L;
  private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

  private final byte[] buf;
  private final DecodeLimits limits;

  private int[] wordOff;
  private int[] wordLen;
  private int wordCount;

  private int count;
  private int[] nameIndex;
  private byte[] type;
  private long[] v1;
  private int[] v2;
  private int[] ids;
  private Object[] cache;
  private int badCount;
  private String firstProblem;

  private final ReferenceLog references = new ReferenceLog();

  private CompressedAttributeBag(byte[] buf, DecodeLimits limits) {
    this.buf = buf;
    this.limits = limits;
  }

  /**
   * Decodes a serialized {@code CompressedAttributes} and resolves it leniently: entries with bad
   * indexes are left out. Throws {@link AttributeDecodeException} for malformed bytes.
   */
  public static CompressedAttributeBag decode(byte[] message) {
    CompressedAttributeBag bag = parse(message, 0, message.length, DecodeLimits.DEFAULT);
    bag.resolve(false);
    return bag;
  }

  /** Parses the structure of a CompressedAttributes in {@code buf[off, off+len)}; call resolve next. */
  static CompressedAttributeBag parse(byte[] buf, int off, int len, DecodeLimits limits) {
    CompressedAttributeBag bag = new CompressedAttributeBag(buf, limits);
    WireReader r = new WireReader(buf, off, len);
    while (r.hasMore()) {
      int tag = r.readTag();
      int field = tag >>> 3;
      if ((tag & 7) != WireReader.LENGTH_DELIMITED || field > 9) {
        r.skipField(tag);
        continue;
      }
      int n = r.readLength();
      int start = r.pos;
      r.pos += n;
      if (field == 1) {
        bag.addWord(start, n);
      } else {
        bag.parseEntry(field, start, n);
      }
    }
    return bag;
  }

  void addWord(int off, int len) {
    if (wordOff == null) {
      wordOff = new int[8];
      wordLen = new int[8];
    } else if (wordCount == wordOff.length) {
      if (wordCount >= limits.maxWords()) {
        throw AttributeDecodeException.limit(
            "more than " + limits.maxWords() + " words in a message dictionary");
      }
      wordOff = Arrays.copyOf(wordOff, wordCount * 2);
      wordLen = Arrays.copyOf(wordLen, wordCount * 2);
    }
    if (!WireReader.isValidUtf8(buf, off, off + len)) {
      throw AttributeDecodeException.malformed("dictionary word " + wordCount + " is not valid UTF-8");
    }
    wordOff[wordCount] = off;
    wordLen[wordCount++] = len;
  }

  /** Uses another dictionary (a ReportRequest's default_words) when this message has none. */
  void useWordsIfEmpty(int[] off, int[] len, int n) {
    if (wordCount == 0) {
      wordOff = off;
      wordLen = len;
      wordCount = n;
    }
  }

  boolean hasWords() {
    return wordCount > 0;
  }

  private void parseEntry(int field, int off, int len) {
    WireReader r = new WireReader(buf, off, len);
    int key = 0;
    byte t;
    long a = 0;
    int b = 0;
    switch (field) {
      case 2 -> t = STRING;
      case 3 -> t = INT64;
      case 4 -> t = DOUBLE;
      case 5 -> t = BOOL;
      case 6 -> t = TIMESTAMP;
      case 7 -> t = DURATION;
      case 8 -> t = BYTES;
      default -> t = STRING_MAP;
    }
    if (t == BYTES || t == STRING_MAP) {
      a = off; // an absent value is empty: offset anywhere, length 0
    }
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag == (1 << 3 | WireReader.VARINT)) {
        key = r.readSint32();
      } else if ((tag >>> 3) == 2 && (tag & 7) == valueWireType(t)) {
        switch (t) {
          case STRING -> a = r.readSint32();
          case INT64 -> a = r.readVarint64();
          case DOUBLE -> a = r.readFixed64();
          case BOOL -> a = r.readVarint64() != 0 ? 1 : 0;
          case TIMESTAMP, DURATION -> {
            int n = r.readLength();
            long seconds = 0;
            int nanos = 0;
            WireReader m = new WireReader(buf, r.pos, n);
            while (m.hasMore()) {
              int mt = m.readTag();
              if (mt == (1 << 3 | WireReader.VARINT)) {
                seconds = m.readVarint64();
              } else if (mt == (2 << 3 | WireReader.VARINT)) {
                nanos = (int) m.readVarint64();
              } else {
                m.skipField(mt);
              }
            }
            r.pos += n;
            a = seconds;
            b = nanos;
          }
          default -> { // BYTES, STRING_MAP
            int n = r.readLength();
            a = r.pos;
            b = n;
            r.pos += n;
            if (t == STRING_MAP) {
              checkMapShape(buf, (int) a, n);
            }
          }
        }
      } else {
        r.skipField(tag);
      }
    }
    add(key, t, a, b);
  }

  private static int valueWireType(byte t) {
    return switch (t) {
      case DOUBLE -> WireReader.FIXED64;
      case TIMESTAMP, DURATION, BYTES, STRING_MAP -> WireReader.LENGTH_DELIMITED;
      default -> WireReader.VARINT;
    };
  }

  /** Walks a StringMap once so that later lookups can scan it without error checks. */
  private void checkMapShape(byte[] buf, int off, int len) {
    WireReader r = new WireReader(buf, off, len);
    int entries = 0;
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag != (1 << 3 | WireReader.LENGTH_DELIMITED)) {
        r.skipField(tag);
        continue;
      }
      if (++entries > limits.maxStringMapEntries()) {
        throw AttributeDecodeException.limit(
            "a string map has more than " + limits.maxStringMapEntries() + " entries");
      }
      int n = r.readLength();
      WireReader e = new WireReader(buf, r.pos, n);
      while (e.hasMore()) {
        e.skipField(e.readTag());
      }
      r.pos += n;
    }
  }

  private void add(int key, byte t, long a, int b) {
    if (nameIndex == null) {
      nameIndex = new int[16];
      type = new byte[16];
      v1 = new long[16];
      v2 = new int[16];
    } else if (count == nameIndex.length) {
      if (count >= limits.maxAttributes()) {
        throw AttributeDecodeException.limit(
            "more than " + limits.maxAttributes() + " attributes in one message");
      }
      int n = count * 2;
      nameIndex = Arrays.copyOf(nameIndex, n);
      type = Arrays.copyOf(type, n);
      v1 = Arrays.copyOf(v1, n);
      v2 = Arrays.copyOf(v2, n);
    }
    nameIndex[count] = key;
    type[count] = t;
    v1[count] = a;
    v2[count++] = b;
  }

  /**
   * Resolves names to ids and checks every index and value. Strict: the first problem throws an
   * {@link AttributeDecodeException} starting with the invalid-attributes prefix. Lenient: entries
   * with problems are left out and counted.
   */
  void resolve(boolean strict) {
    if (count == 0) {
      return;
    }
    ids = new int[count];
    for (int i = 0; i < count; i++) {
      String problem = check(i);
      if (problem == null) {
        ids[i] = resolveName(nameIndex[i]);
        continue;
      }
      if (strict) {
        throw AttributeDecodeException.invalidIndex(problem);
      }
      ids[i] = BAD;
      if (badCount++ == 0) {
        firstProblem = problem;
      }
    }
  }

  private String check(int i) {
    int name = nameIndex[i];
    if (!validIndex(name)) {
      return "attribute name index " + name + " is outside the dictionaries (global "
          + GlobalDictionary.SIZE + " words, message " + wordCount + " words)";
    }
    switch (type[i]) {
      case STRING -> {
        if (!validIndex((int) v1[i])) {
          return "string value index " + v1[i] + " of attribute " + nameAt(name)
              + " is outside the dictionaries";
        }
      }
      case TIMESTAMP -> {
        if (v1[i] < MIN_TIMESTAMP_SECONDS || v1[i] > MAX_TIMESTAMP_SECONDS
            || v2[i] < 0 || v2[i] > 999_999_999) {
          return "timestamp of attribute " + nameAt(name) + " is out of range (" + v1[i] + "s "
              + v2[i] + "ns)";
        }
      }
      case DURATION -> {
        if (v1[i] < -MAX_DURATION_SECONDS || v1[i] > MAX_DURATION_SECONDS
            || v2[i] < -999_999_999 || v2[i] > 999_999_999) {
          return "duration of attribute " + nameAt(name) + " is out of range (" + v1[i] + "s "
              + v2[i] + "ns)";
        }
      }
      case STRING_MAP -> {
        WireReader r = new WireReader(buf, (int) v1[i], v2[i]);
        while (r.hasMore()) {
          int tag = r.readTag();
          if (tag != (1 << 3 | WireReader.LENGTH_DELIMITED)) {
            r.skipField(tag);
            continue;
          }
          int n = r.readLength();
          long kv = readMapEntry(buf, r.pos, n);
          r.pos += n;
          int k = (int) (kv >> 32);
          int v = (int) kv;
          if (!validIndex(k) || !validIndex(v)) {
            return "string map entry " + k + ":" + v + " of attribute " + nameAt(name)
                + " is outside the dictionaries";
          }
        }
      }
      default -> { }
    }
    return null;
  }

  private String nameAt(int index) {
    return validIndex(index) ? word(index) : String.valueOf(index);
  }

  private boolean validIndex(int index) {
    return index >= 0 ? index < GlobalDictionary.SIZE : -(long) index - 1 < wordCount;
  }

  private int resolveName(int index) {
    if (index >= 0) {
      return index;
    }
    int slot = -index - 1;
    AttributeName n = NameTable.find(buf, wordOff[slot], wordLen[slot]);
    return n == null ? UNKNOWN : n.id();
  }

  /** Reads a StringMap entry (key field 1, value field 2, both sint32; absent = 0). */
  private static long readMapEntry(byte[] buf, int off, int len) {
    WireReader e = new WireReader(buf, off, len);
    int k = 0;
    int v = 0;
    while (e.hasMore()) {
      int tag = e.readTag();
      if (tag == (1 << 3 | WireReader.VARINT)) {
        k = e.readSint32();
      } else if (tag == (2 << 3 | WireReader.VARINT)) {
        v = e.readSint32();
      } else {
        e.skipField(tag);
      }
    }
    return ((long) k << 32) | (v & 0xffffffffL);
  }

  String word(int index) {
    if (index >= 0) {
      return GlobalDictionary.word(index);
    }
    int slot = -index - 1;
    return new String(buf, wordOff[slot], wordLen[slot], StandardCharsets.UTF_8);
  }

  private boolean wordMatches(int index, MapKey key) {
    if (index >= 0) {
      return index == key.globalIndex();
    }
    int slot = -index - 1;
    return key.matches(buf, wordOff[slot], wordLen[slot]);
  }

  /** Number of entries left out by lenient resolution. */
  public int badEntryCount() {
    return badCount;
  }

  /** The first problem lenient resolution found, or null. */
  public String firstProblem() {
    return firstProblem;
  }

  private int find(int id) {
    for (int i = count - 1; i >= 0; i--) {
      if (ids[i] == id) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public Object get(AttributeName name) {
    int i = count == 0 ? -1 : find(name.id());
    if (i < 0) {
      references.absent(name);
      return null;
    }
    references.exact(name);
    return value(i);
  }

  @Override
  public String getMapValue(AttributeName map, MapKey key) {
    int i = count == 0 ? -1 : find(map.id());
    if (i < 0) {
      references.absent(map);
      return null;
    }
    int valueIndex = type[i] == STRING_MAP ? mapLookup(i, key) : Integer.MIN_VALUE;
    if (valueIndex == Integer.MIN_VALUE) {
      references.absentKey(map, key);
      return null;
    }
    references.exactKey(map, key);
    return word(valueIndex);
  }

  /** Returns the value index stored under key (the last one on the wire), or MIN_VALUE. */
  private int mapLookup(int i, MapKey key) {
    int found = Integer.MIN_VALUE;
    WireReader r = new WireReader(buf, (int) v1[i], v2[i]);
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag != (1 << 3 | WireReader.LENGTH_DELIMITED)) {
        r.skipField(tag);
        continue;
      }
      int n = r.readLength();
      long kv = readMapEntry(buf, r.pos, n);
      r.pos += n;
      if (wordMatches((int) (kv >> 32), key)) {
        found = (int) kv;
      }
    }
    return found;
  }

  private Object value(int i) {
    if (cache == null) {
      cache = new Object[count];
    } else if (cache[i] != null) {
      return cache[i];
    }
    Object v = switch (type[i]) {
      case STRING -> word((int) v1[i]);
      case INT64 -> v1[i];
      case DOUBLE -> Double.longBitsToDouble(v1[i]);
      case BOOL -> v1[i] != 0;
      case TIMESTAMP -> Instant.ofEpochSecond(v1[i], v2[i]);
      case DURATION -> Duration.ofSeconds(v1[i], v2[i]);
      case BYTES -> Arrays.copyOfRange(buf, (int) v1[i], (int) v1[i] + v2[i]);
      default -> materializeMap(i);
    };
    if (type[i] != BYTES) { // byte[] is mutable: hand out a fresh copy each time
      cache[i] = v;
    }
    return v;
  }

  private Map<String, String> materializeMap(int i) {
    Map<String, String> m = new LinkedHashMap<>();
    WireReader r = new WireReader(buf, (int) v1[i], v2[i]);
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag != (1 << 3 | WireReader.LENGTH_DELIMITED)) {
        r.skipField(tag);
        continue;
      }
      int n = r.readLength();
      long kv = readMapEntry(buf, r.pos, n);
      r.pos += n;
      m.put(word((int) (kv >> 32)), word((int) kv));
    }
    return Collections.unmodifiableMap(m);
  }

  /** Copies every valid entry into {@code target}, later entries overwriting earlier ones. */
  void copyInto(MutableAttributeBag target) {
    for (int i = 0; i < count; i++) {
      int id = ids[i];
      if (id == BAD) {
        continue;
      }
      Object v = value(i);
      if (id >= 0) {
        target.put(NameTable.byId(id), v);
      } else {
        target.putUnknown(word(nameIndex[i]), v);
      }
    }
  }

  @Override
  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < count; i++) {
      if (ids[i] != BAD) {
        names.add(word(nameIndex[i]));
      }
    }
    return names;
  }

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      if (ids[i] != BAD) {
        m.put(word(nameIndex[i]), value(i));
      }
    }
    return m;
  }

  @Override
  public ReferenceLog references() {
    return references;
  }
}
