package io.istio4j.mixer.attribute;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
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
  static final byte STRING_MAP_RAW = 8; // where its bytes are; decoded on first access
  static final byte STRING_MAP = 9; // its first index pair in mapPool and the pair count
  static final byte TIMESTAMP_WIDE = 10; // beyond years 1677-2262: seconds, nanos in wideNanos
  static final byte DURATION_WIDE = 11; // beyond 292 years: seconds, nanos in wideNanos
  // A named entry whose value is unusable: it is left out, and hides earlier entries of its name
  // (protobuf keeps the last occurrence of a map key, so the name is absent, not the earlier value).
  static final byte INVALID = 12;

  private static final VarHandle LONGS = MethodHandles
      .byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  // After resolve(), nameIndex[i] holds the entry's AttributeName id (>= 0), or its negative wire
  // index when the name is a message word no config has interned, or BAD.
  private static final int BAD = Integer.MIN_VALUE;

  // Protobuf's valid ranges for Timestamp and Duration.
  private static final long MIN_TIMESTAMP_SECONDS = -62_135_596_800L;
  private static final long MAX_TIMESTAMP_SECONDS = 253_402_300_799L;
  private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

  private final byte[] buf;
  private final DecodeLimits limits;

  private int[] words; // word i: offset at 2i, length at 2i + 1
  private int wordCount;

  private int count;
  private int[] nameIndex;
  private byte[] type;
  // One long per entry: the value (string index, int64, double bits, bool), epoch or duration
  // nanoseconds, or (offset << 32 | length) of bytes and maps.
  private long[] v1;
  private int[] wideNanos; // only for the rare *_WIDE entries
  private int sizeHint;
  private String[] wordStrings; // message words made Strings so far; NOT_UTF8 for invalid ones
  private boolean wordsChecked; // every word is known to be valid UTF-8 (strict resolve)
  private int[] mapPool;
  private long[] mapKeyPrints; // MapKey.fingerprint of each pair's key, at pair index (pool index / 2)
  private int mapPoolSize;
  private Object[] cache;
  private WireReader mapReader;
  private int badCount;
  private boolean usingDefaultWords;
  private boolean deferred;
  private boolean finalPass;
  private boolean admittedInvalid; // set by admit: the entry has a name but no usable value
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

  /** Decodes the CompressedAttributes in {@code buf[off, off+len)} with its own dictionary. */
  static CompressedAttributeBag parse(byte[] buf, int off, int len, DecodeLimits limits) {
    return parse(buf, off, len, limits, null, 0);
  }

  /**
   * Decodes the CompressedAttributes in {@code buf[off, off+len)}. Names resolve to ids and
   * indexes are checked as entries are read, against the message's words, or against the given
   * default dictionary (a ReportRequest's default_words) while the message has none. Only when a
   * message puts words after entries that need them is it read a second time.
   */
  static CompressedAttributeBag parse(byte[] buf, int off, int len, DecodeLimits limits,
      int[] defaultWords, int defaultCount) {
    CompressedAttributeBag bag = new CompressedAttributeBag(buf, limits);
    bag.sizeHint = len;
    if (defaultCount > 0) {
      bag.words = defaultWords;
      bag.wordCount = defaultCount;
      bag.usingDefaultWords = true;
    }
    WireReader r = new WireReader(buf, off, len);
    bag.mapReader = r; // free once parsing ends: maps are read later
    bag.scan(r, off, len);
    if (bag.deferred) {
      bag.finalPass = true;
      bag.count = 0;
      bag.badCount = 0;
      bag.firstProblem = null;
      bag.scan(r, off, len);
    }
    return bag;
  }

  private void scan(WireReader r, int off, int len) {
    byte[] buf = this.buf;
    int pos = off;
    int end = off + len;
    while (pos < end) {
      // Fast path: a one-byte tag of fields 1-9 with a one-byte length, as every serializer writes
      // words and small map entries. Anything else goes through the general reader.
      int tag = buf[pos];
      if ((tag & 7) == WireReader.LENGTH_DELIMITED && tag >= (1 << 3) && tag <= (9 << 3 | 7)
          && pos + 1 < end && buf[pos + 1] >= 0 && pos + 2 + buf[pos + 1] <= end) {
        int start = pos + 2;
        int stop = start + buf[pos + 1];
        int field = tag >>> 3;
        if (field == 1) {
          addWord(start, stop - start);
        } else if (!(field == 2 ? stringEntry(start, stop) : fastEntry(field, start, stop))) {
          r.reset(start, stop - start);
          parseEntry(r, field);
        }
        pos = stop;
        continue;
      }
      r.reset(pos, end - pos);
      tag = r.readTag();
      int field = tag >>> 3;
      if ((tag & 7) != WireReader.LENGTH_DELIMITED || field > 9) {
        r.skipField(tag);
      } else if (field == 1) {
        int n = r.readLength();
        addWord(r.pos, n);
        r.pos += n;
      } else {
        int outer = r.pushLimit();
        parseEntry(r, field);
        r.popLimit(outer);
      }
      pos = r.pos;
    }
  }

  /**
   * Decodes the most common entry of all, a string attribute whose name and value indexes take one
   * or two bytes each ({@code 08 key 10 value}); false, having stored nothing, for any other shape.
   * Kept small so that the JIT inlines it into the scan loop.
   */
  private boolean stringEntry(int start, int stop) {
    byte[] b = buf;
    if (stop - start < 4 || b[start] != (1 << 3 | WireReader.VARINT)) {
      return false;
    }
    int raw = b[start + 1];
    int p = start + 2;
    if (raw < 0) {
      int b1 = b[p++]; // in range: the entry has at least four bytes
      if (b1 < 0) {
        return false;
      }
      raw = (raw & 0x7f) | b1 << 7;
    }
    if (p + 1 >= stop || b[p] != (2 << 3 | WireReader.VARINT)) {
      return false;
    }
    int value = b[p + 1];
    p += 2;
    if (value < 0) {
      if (p >= stop || b[p] < 0) {
        return false;
      }
      value = (value & 0x7f) | b[p++] << 7;
    }
    if (p != stop) {
      return false;
    }
    int key = (raw >>> 1) ^ -(raw & 1);
    value = (value >>> 1) ^ -(value & 1);
    ensureEntryCapacity();
    byte t = STRING;
    if (knownIndex(key) && knownIndex(value)) {
      nameIndex[count] = resolveName(key);
    } else {
      nameIndex[count] = admit(key, STRING, value, 0);
      t = admittedType(t);
    }
    v1[count] = value;
    type[count++] = t;
    return true;
  }

  /**
   * Decodes the common shape of a scalar map entry ({@code key=1 sint32} then {@code value=2}, each
   * once, in order) with local variables only; returns false, having stored nothing, for any other
   * shape, which {@link #parseEntry} then handles in general.
   */
  private boolean fastEntry(int field, int start, int stop) {
    byte[] b = buf;
    if (stop - start < 4 || b[start] != (1 << 3 | WireReader.VARINT)) {
      return false; // shorter than key and value: the general path (which handles empty entries)
    }
    long k = smallVarint(b, start + 1, stop);
    if (k < 0) {
      return false;
    }
    int p = (int) (k >>> 32);
    int raw = (int) k;
    int key = (raw >>> 1) ^ -(raw & 1);
    if (p >= stop) {
      return false;
    }
    byte t;
    long a;
    int extra = 0;
    switch (field) {
      case 2, 3, 5 -> {
        if (b[p] != (2 << 3 | WireReader.VARINT)) {
          return false;
        }
        long v = smallVarint(b, p + 1, stop);
        if (v < 0) {
          return false;
        }
        p = (int) (v >>> 32);
        int value = (int) v;
        if (field == 2) {
          t = STRING;
          a = (value >>> 1) ^ -(value & 1);
        } else if (field == 3) {
          if (value < 0) {
            return false; // only non-negative values below 2^28 take this path
          }
          t = INT64;
          a = value;
        } else {
          t = BOOL;
          a = value != 0 ? 1 : 0;
        }
      }
      case 4 -> {
        if (b[p] != (2 << 3 | WireReader.FIXED64) || stop - p < 9) {
          return false;
        }
        t = DOUBLE;
        a = (long) LONGS.get(b, p + 1);
        p += 9;
      }
      case 6, 7, 8, 9 -> { // a length-delimited value that ends the entry
        if (b[p] != (2 << 3 | WireReader.LENGTH_DELIMITED)) {
          return false;
        }
        long n = smallVarint(b, p + 1, stop);
        if (n < 0 || (int) (n >>> 32) + (int) n != stop) {
          return false;
        }
        p = (int) (n >>> 32);
        if (field >= 8) { // BYTES, STRING_MAP_RAW: where the bytes are
          t = field == 8 ? BYTES : STRING_MAP_RAW;
          a = p;
          extra = (int) n;
          p = stop;
        } else { // TIMESTAMP, DURATION
          t = field == 6 ? TIMESTAMP : DURATION;
          long seconds = fastTimeSeconds(b, p, stop);
          if (seconds < 0) {
            return false;
          }
          p = (int) (seconds >>> 35);
          a = seconds & ((1L << 35) - 1);
          if (p < stop && b[p] == (2 << 3 | WireReader.VARINT)) {
            long v = smallVarint(b, p + 1, stop);
            if (v < 0) {
              return false;
            }
            p = (int) (v >>> 32);
            extra = (int) v;
          }
        }
      }
      default -> {
        return false;
      }
    }
    if (p != stop) {
      return false;
    }
    store(key, t, a, extra);
    return true;
  }

  /**
   * Reads the optional {@code seconds=1} field of a Timestamp or Duration at {@code p} when it is a
   * varint of at most five bytes (0 to 2^35 - 1): returns {@code newPos << 35 | seconds}, or -1
   * (also for positions from 2^28 on, which would not fit).
   */
  private static long fastTimeSeconds(byte[] b, int p, int stop) {
    if (stop >= 1 << 28) {
      return -1;
    }
    if (p >= stop || b[p] != (1 << 3 | WireReader.VARINT)) {
      return (long) p << 35; // absent: zero
    }
    long v = 0;
    for (int shift = 0, q = p + 1; shift <= 28 && q < stop; shift += 7) {
      byte x = b[q++];
      v |= (long) (x & 0x7f) << shift;
      if (x >= 0) {
        return (long) q << 35 | v;
      }
    }
    return -1;
  }

  /**
   * Reads a varint of at most four bytes (values below 2^28) at {@code p}; returns
   * {@code newPos << 32 | value}, or -1 when it is longer or runs past {@code stop}.
   */
  private static long smallVarint(byte[] b, int p, int stop) {
    // One or two bytes: every name and value index below 8192 in magnitude.
    if (p < stop) {
      int b0 = b[p];
      if (b0 >= 0) {
        return ((long) (p + 1) << 32) | b0;
      }
      if (p + 1 < stop) {
        int b1 = b[p + 1];
        if (b1 >= 0) {
          return ((long) (p + 2) << 32) | (b0 & 0x7f) | (b1 << 7);
        }
      }
    }
    int value = 0;
    for (int shift = 0; shift < 28 && p < stop; shift += 7) {
      byte x = b[p++];
      value |= (x & 0x7f) << shift;
      if (x >= 0) {
        return ((long) p << 32) | (value & 0xffffffffL);
      }
    }
    return -1;
  }

  /**
   * Records a word's place. Its UTF-8 is checked only when the word is turned into a String (see
   * {@link #word}), so a request pays for the words it uses, not for all of them.
   */
  private void addWord(int off, int len) {
    if (finalPass) {
      return; // the second pass reads entries only; words are known
    }
    if (usingDefaultWords) {
      // The message has words of its own after all: entries read so far used the default ones.
      usingDefaultWords = false;
      deferred |= count > 0;
      words = null;
      wordCount = 0;
      wordStrings = null; // Strings made of default words (an error message names them) are stale
    }
    // Capacity never exceeds the limit, so the check at each growth makes the limit exact.
    if (words == null) {
      words = new int[2 * Math.min(limits.maxWords(), Math.max(4, Math.min(32, sizeHint / 32)))];
    } else if (2 * wordCount == words.length) {
      if (wordCount >= limits.maxWords()) {
        throw AttributeDecodeException.limit(
            "more than " + limits.maxWords() + " words in a message dictionary");
      }
      words = Arrays.copyOf(words, 2 * (int) Math.min((long) wordCount * 2, limits.maxWords()));
    }
    words[2 * wordCount] = off;
    words[2 * wordCount++ + 1] = len;
  }

  /** Makes room for one more entry. Sized from the message length, then doubling. */
  private void ensureEntryCapacity() {
    // Capacity never exceeds the limit, so the check at each growth makes the limit exact.
    if (nameIndex == null) {
      int n = Math.min(limits.maxAttributes(), Math.max(4, Math.min(32, sizeHint / 16)));
      nameIndex = new int[n];
      type = new byte[n];
      v1 = new long[n];
    } else if (count == nameIndex.length) {
      if (count >= limits.maxAttributes()) {
        throw AttributeDecodeException.limit(
            "more than " + limits.maxAttributes() + " attributes in one message");
      }
      int n = (int) Math.min((long) count * 2, limits.maxAttributes());
      nameIndex = Arrays.copyOf(nameIndex, n);
      type = Arrays.copyOf(type, n);
      v1 = Arrays.copyOf(v1, n);
      if (wideNanos != null) {
        wideNanos = Arrays.copyOf(wideNanos, n);
      }
    }
  }

  /** Reads one map entry (key field 1, value field 2) of the typed map {@code field}. */
  private void parseEntry(WireReader r, int field) {
    byte t = switch (field) {
      case 2 -> STRING;
      case 3 -> INT64;
      case 4 -> DOUBLE;
      case 5 -> BOOL;
      case 6 -> TIMESTAMP;
      case 7 -> DURATION;
      case 8 -> BYTES;
      default -> STRING_MAP_RAW;
    };
    int key = 0;
    long a = t == BYTES || t == STRING_MAP_RAW ? r.pos : 0; // an absent value is empty
    int b = 0;
    int valueTag = 2 << 3 | valueWireType(t);
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag == (1 << 3 | WireReader.VARINT)) {
        key = r.readSint32();
      } else if (tag != valueTag) {
        r.skipField(tag);
      } else {
        switch (t) {
          case STRING -> a = r.readSint32();
          case INT64 -> a = r.readVarint64();
          case DOUBLE -> a = r.readFixed64();
          case BOOL -> a = r.readVarint64() != 0 ? 1 : 0;
          case TIMESTAMP, DURATION -> {
            int outer = r.pushLimit();
            a = 0;
            b = 0;
            while (r.hasMore()) {
              int mt = r.readTag();
              if (mt == (1 << 3 | WireReader.VARINT)) {
                a = r.readVarint64();
              } else if (mt == (2 << 3 | WireReader.VARINT)) {
                b = (int) r.readVarint64();
              } else {
                r.skipField(mt);
              }
            }
            r.popLimit(outer);
          }
          default -> { // BYTES, STRING_MAP_RAW
            int n = r.readLength();
            a = r.pos;
            b = n;
            r.pos += n;
          }
        }
      }
    }
    store(key, t, a, b);
  }

  /** Appends an entry, its name resolved to an id (or BAD, with the reason kept). */
  private void store(int key, byte t, long a, int b) {
    if (t == STRING_MAP_RAW && b > 2 * limits.maxStringMapEntries()) {
      checkMapSize((int) a, b);
    }
    ensureEntryCapacity();
    nameIndex[count] = admit(key, t, a, b);
    t = admittedType(t);
    switch (t) {
      case BYTES, STRING_MAP_RAW -> v1[count] = a << 32 | (b & 0xffffffffL);
      case TIMESTAMP, DURATION -> {
        long nanos = a * 1_000_000_000L + b;
        if (Math.multiplyHigh(a, 1_000_000_000L) != (a * 1_000_000_000L >> 63)
            || ((a * 1_000_000_000L ^ nanos) & (b ^ nanos)) < 0) {
          t = t == TIMESTAMP ? TIMESTAMP_WIDE : DURATION_WIDE; // does not fit in a long of nanos
          if (wideNanos == null) {
            wideNanos = new int[nameIndex.length];
          }
          wideNanos[count] = b;
          v1[count] = a;
        } else {
          v1[count] = nanos;
        }
      }
      default -> v1[count] = a;
    }
    type[count++] = t;
  }

  /**
   * Checks an entry's indexes and value and resolves its name: returns the AttributeName id, the
   * negative wire index of a message word no config has interned, or BAD.
   */
  private int admit(int key, byte t, long a, int b) {
    if (!knownIndex(key) || (t == STRING && !knownIndex((int) a))) {
      if (!finalPass && (key < 0 || (t == STRING && a < 0))) {
        deferred = true; // a word it needs may come later in the message
        return BAD;
      }
      bad(key, t, a, b);
      return knownIndex(key) ? invalid(key) : BAD;
    }
    boolean inRange = switch (t) {
      case TIMESTAMP -> a >= MIN_TIMESTAMP_SECONDS && a <= MAX_TIMESTAMP_SECONDS
          && b >= 0 && b <= 999_999_999;
      case DURATION -> a >= -MAX_DURATION_SECONDS && a <= MAX_DURATION_SECONDS
          && b >= -999_999_999 && b <= 999_999_999;
      default -> true; // maps are checked when first read (decodeMap)
    };
    if (inRange) {
      return resolveName(key);
    }
    bad(key, t, a, b);
    return invalid(key);
  }

  /** The type to store for an entry just admitted: INVALID when admit found its value unusable. */
  private byte admittedType(byte t) {
    if (admittedInvalid) {
      admittedInvalid = false;
      return INVALID;
    }
    return t;
  }

  /** Resolves the name of an entry whose value is unusable; the entry is stored as INVALID. */
  private int invalid(int key) {
    admittedInvalid = true;
    return resolveName(key);
  }

  /** True when the index names a word of the global or the current message dictionary. */
  private boolean knownIndex(int index) {
    return index >= 0 ? index < GlobalDictionary.SIZE : -(long) index - 1 < wordCount;
  }

  private int bad(int key, byte t, long a, int b) {
    if (badCount++ == 0) {
      firstProblem = problem(key, t, a, b);
    }
    return BAD;
  }

  private static int valueWireType(byte t) {
    return switch (t) {
      case DOUBLE -> WireReader.FIXED64;
      case TIMESTAMP, DURATION, BYTES, STRING_MAP_RAW -> WireReader.LENGTH_DELIMITED;
      default -> WireReader.VARINT;
    };
  }

  /**
   * Fails the request when a string map has more entries than the limit, whether or not a rule
   * will read it, so the limit means the same for Check (whose maps are decoded when first read)
   * and Report (whose maps are all decoded). Only maps long enough to hold that many entries (two
   * bytes at least each) are counted; a malformed one is left for {@link #decodeMap} to judge.
   */
  private void checkMapSize(int off, int len) {
    WireReader r = new WireReader(buf, off, len);
    int entries = 0;
    try {
      while (r.hasMore()) {
        int tag = r.readTag();
        if (tag == (1 << 3 | WireReader.LENGTH_DELIMITED) && ++entries > limits.maxStringMapEntries()) {
          throw AttributeDecodeException.limit(
              "a string map has more than " + limits.maxStringMapEntries() + " entries");
        }
        r.skipField(tag);
      }
    } catch (AttributeDecodeException e) {
      if (e.isLimit()) {
        throw e;
      }
    }
  }

  /**
   * Decodes map entry {@code i} on first access: its (key index, value index) pairs go to the map
   * pool, so lookups compare ints. Maps no rule reads (often most of request.headers) are never
   * decoded. Returns false when the map is malformed or uses an index outside the dictionaries.
   */
  private boolean decodeMap(int i) {
    if (type[i] == STRING_MAP) {
      return true;
    }
    int start = mapPoolSize;
    int pairs;
    try {
      if (mapReader == null) {
        mapReader = new WireReader(buf, offset(i), length(i));
      } else {
        mapReader.reset(offset(i), length(i));
      }
      pairs = readMap(mapReader);
    } catch (AttributeDecodeException e) {
      mapPoolSize = start;
      if (e.isLimit()) {
        throw e; // a request over the limits fails as a whole
      }
      return false;
    }
    if (mapPoolSize > start && (mapKeyPrints == null || mapKeyPrints.length < mapPoolSize / 2)) {
      mapKeyPrints = mapKeyPrints == null
          ? new long[mapPool.length / 2] : Arrays.copyOf(mapKeyPrints, mapPool.length / 2);
    }
    // One pass: check both indexes of each pair and fingerprint its key.
    for (int p = start; p < mapPoolSize; p += 2) {
      int k = mapPool[p];
      if (!knownIndex(k) || !knownIndex(mapPool[p + 1])) {
        mapPoolSize = start;
        return false;
      }
      mapKeyPrints[p >> 1] = k >= 0 ? MapKey.globalFingerprint(k)
          : MapKey.fingerprintAt(buf, words[-2 * k - 2], words[-2 * k - 1]);
    }
    type[i] = STRING_MAP;
    v1[i] = (long) start << 32 | pairs;
    return true;
  }

  /**
   * Decodes a StringMap's entries as (key index, value index) pairs appended to the map pool;
   * returns the number of pairs.
   */
  private int readMap(WireReader r) {
    int entries = 0;
    byte[] b = buf;
    int pos = r.pos;
    int end = r.limit;
    while (pos < end) {
      if (++entries > limits.maxStringMapEntries()) {
        throw AttributeDecodeException.limit(
            "a string map has more than " + limits.maxStringMapEntries() + " entries");
      }
      if (mapPool == null) {
        mapPool = new int[32];
      } else if (mapPoolSize + 2 > mapPool.length) {
        mapPool = Arrays.copyOf(mapPool, mapPool.length * 2);
      }
      // Fast path: [entry tag, one-byte length, key tag, key, value tag, value].
      if (b[pos] == (1 << 3 | WireReader.LENGTH_DELIMITED) && pos + 1 < end && b[pos + 1] >= 0) {
        int stop = pos + 2 + b[pos + 1];
        if (stop <= end && stop - pos >= 4 && b[pos + 2] == (1 << 3 | WireReader.VARINT)) {
          long k = smallVarint(b, pos + 3, stop);
          if (k >= 0) {
            int p = (int) (k >>> 32);
            if (p < stop && b[p] == (2 << 3 | WireReader.VARINT)) {
              long v = smallVarint(b, p + 1, stop);
              if (v >= 0 && (int) (v >>> 32) == stop) {
                int rk = (int) k;
                int rv = (int) v;
                mapPool[mapPoolSize++] = (rk >>> 1) ^ -(rk & 1);
                mapPool[mapPoolSize++] = (rv >>> 1) ^ -(rv & 1);
                pos = stop;
                continue;
              }
            }
          }
        }
      }
      r.reset(pos, end - pos);
      int tag = r.readTag();
      if (tag != (1 << 3 | WireReader.LENGTH_DELIMITED)) {
        entries--;
        r.skipField(tag);
        pos = r.pos;
        continue;
      }
      int outer = r.pushLimit();
      int key = 0;
      int value = 0;
      while (r.hasMore()) {
        int t = r.readTag();
        if (t == (1 << 3 | WireReader.VARINT)) {
          key = r.readSint32();
        } else if (t == (2 << 3 | WireReader.VARINT)) {
          value = r.readSint32();
        } else {
          r.skipField(t);
        }
      }
      r.popLimit(outer);
      pos = r.pos;
      mapPool[mapPoolSize++] = key;
      mapPool[mapPoolSize++] = value;
    }
    r.reset(pos, 0);
    return entries;
  }

  /**
   * Resolves names to ids and checks every index and value. Strict: the first problem throws an
   * {@link AttributeDecodeException} starting with the invalid-attributes prefix. Lenient: entries
   * with problems are left out and counted.
   */
  void resolve(boolean strict) {
    if (!strict) {
      return; // names were resolved and indexes checked while parsing
    }
    if (badCount > 0) {
      throw AttributeDecodeException.invalidIndex(firstProblem);
    }
    for (int w = 0; w < wordCount; w++) {
      int off = words[2 * w];
      if (!WireReader.isValidUtf8(buf, off, off + words[2 * w + 1])) {
        throw AttributeDecodeException.malformed("dictionary word " + w + " is not valid UTF-8");
      }
    }
    wordsChecked = true;
    for (int i = 0; i < count; i++) {
      if (type[i] == STRING_MAP_RAW && !decodeMap(i)) {
        throw AttributeDecodeException.invalidIndex("string map of attribute " + nameOf(i)
            + " is malformed or uses an index outside the dictionaries");
      }
    }
  }

  /** Describes why an entry was refused; off the hot path. */
  private String problem(int name, byte t, long a, int b) {
    if (!knownIndex(name)) {
      return "attribute name index " + name + " is outside the dictionaries (global "
          + GlobalDictionary.SIZE + " words, message " + wordCount + " words)";
    }
    return switch (t) {
      case STRING -> "string value index " + a + " of attribute " + nameAt(name)
          + " is outside the dictionaries";
      case TIMESTAMP -> "timestamp of attribute " + nameAt(name) + " is out of range (" + a
          + "s " + b + "ns)";
      default -> "duration of attribute " + nameAt(name) + " is out of range (" + a + "s " + b + "ns)";
    };
  }

  private String nameAt(int index) {
    String w = knownIndex(index) ? word(index) : null;
    return w != null ? w : String.valueOf(index);
  }

  private int resolveName(int index) {
    if (index >= 0) {
      return index;
    }
    int slot = -index - 1;
    AttributeName n = NameTable.find(buf, words[2 * slot], words[2 * slot + 1]);
    return n == null ? index : n.id();
  }

  // Marks a message word that is not valid UTF-8 in wordStrings (compared by identity).
  private static final String NOT_UTF8 = new String("not UTF-8");

  /**
   * The word at a dictionary index, or null when it is not valid UTF-8. A message word becomes a
   * String once per bag, however often rules read it.
   */
  String word(int index) {
    if (index >= 0) {
      return GlobalDictionary.word(index);
    }
    String[] ws = wordStrings;
    int slot = -index - 1;
    if (ws != null && slot < ws.length && ws[slot] != null) {
      return ws[slot] == NOT_UTF8 ? null : ws[slot];
    }
    return newWord(slot);
  }

  private String newWord(int slot) {
    if (wordStrings == null || wordStrings.length < wordCount) { // words may still be arriving
      wordStrings = wordStrings == null ? new String[wordCount] : Arrays.copyOf(wordStrings, wordCount);
    }
    int off = words[2 * slot];
    int len = words[2 * slot + 1];
    if (wordsChecked || WireReader.isValidUtf8(buf, off, off + len)) {
      return wordStrings[slot] = new String(buf, off, len, StandardCharsets.UTF_8);
    }
    wordStrings[slot] = NOT_UTF8;
    return null;
  }

  /** Leaves entry {@code i} out after all: one of its words is not valid UTF-8. */
  private void markBad(int i) {
    if (badCount++ == 0) {
      firstProblem = "a dictionary word of attribute " + nameOf(i) + " is not valid UTF-8";
    }
    type[i] = INVALID;
  }

  /** The name of resolved entry {@code i}, or null when it is a word that is not UTF-8. */
  private String nameOf(int i) {
    int k = nameIndex[i];
    return k >= 0 ? NameTable.byId(k).name() : word(k);
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
      if (nameIndex[i] == id) {
        return i;
      }
    }
    return -1;
  }

  @Override
  public Object get(AttributeName name) {
    int i = count == 0 ? -1 : find(name.id());
    if (i < 0 || type[i] == INVALID) {
      references.absent(name);
      return null;
    }
    Object v = type[i] == STRING ? word((int) v1[i]) : value(i);
    if (v == null) {
      markBad(i);
      references.absent(name);
      return null;
    }
    references.exact(name);
    return v;
  }

  @Override
  public boolean contains(AttributeName name) {
    int i = count == 0 ? -1 : find(name.id());
    return i >= 0 && type[i] != INVALID;
  }

  @Override
  public String getMapValue(AttributeName map, MapKey key) {
    int i = count == 0 ? -1 : find(map.id());
    if (i < 0 || type[i] == INVALID) {
      references.absent(map);
      return null;
    }
    if (type[i] != STRING_MAP && !mapReadable(i, map, key)) {
      return null;
    }
    int valueIndex = mapLookup(i, key);
    String value = valueIndex == Integer.MIN_VALUE ? null : word(valueIndex);
    if (value == null) {
      references.absentKey(map, key);
      return null;
    }
    references.exactKey(map, key);
    return value;
  }

  /**
   * Decodes map entry {@code i} on first read. False, with the lookup recorded, when it cannot be
   * read as a map: malformed (the entry is left out) or another type (the key is absent).
   */
  private boolean mapReadable(int i, AttributeName map, MapKey key) {
    if (type[i] == STRING_MAP_RAW) {
      if (decodeMap(i)) {
        return true;
      }
      markBad(i);
      references.absent(map);
      return false;
    }
    references.absentKey(map, key); // not a map: no key can be present
    return false;
  }

  /** Returns the value index stored under key (the last one on the wire), or MIN_VALUE. */
  private int mapLookup(int i, MapKey key) {
    int start = offset(i);
    int globalKey = key.globalIndex();
    long print = key.fingerprint();
    boolean exact = key.fingerprintIsExact();
    for (int p = start + 2 * length(i) - 2; p >= start; p -= 2) {
      if (mapKeyPrints[p >> 1] != print) {
        continue;
      }
      int k = mapPool[p];
      if (k >= 0 ? k == globalKey : exact || key.matches(buf, words[-2 * k - 2], words[-2 * k - 1])) {
        return mapPool[p + 1];
      }
    }
    return Integer.MIN_VALUE;
  }

  /** The offset of a BYTES or map entry's bytes, or a decoded map's first pair in the pool. */
  private int offset(int i) {
    return (int) (v1[i] >>> 32);
  }

  /** The length of a BYTES or map entry's bytes, or a decoded map's pair count. */
  private int length(int i) {
    return (int) v1[i];
  }

  private Object value(int i) {
    if (cache != null && cache[i] != null) {
      return cache[i];
    }
    Object v = switch (type[i]) {
      case STRING -> word((int) v1[i]);
      case INT64 -> v1[i];
      case DOUBLE -> Double.longBitsToDouble(v1[i]);
      case BOOL -> v1[i] != 0;
      case TIMESTAMP -> Instant.ofEpochSecond(Math.floorDiv(v1[i], 1_000_000_000L),
          Math.floorMod(v1[i], 1_000_000_000L));
      case DURATION -> Duration.ofNanos(v1[i]);
      case TIMESTAMP_WIDE -> Instant.ofEpochSecond(v1[i], wideNanos[i]);
      case DURATION_WIDE -> Duration.ofSeconds(v1[i], wideNanos[i]);
      case BYTES -> Arrays.copyOfRange(buf, offset(i), offset(i) + length(i));
      case INVALID -> null;
      default -> decodeMap(i) ? materializeMap(i) : null;
    };
    // Keep what cost an allocation, for the next lookup of the same attribute.
    if (v != null && type[i] != BOOL && type[i] != STRING // words are cached by word()
        && !(type[i] == INT64 && v1[i] >= -128 && v1[i] <= 127)) {
      if (cache == null) {
        cache = new Object[count];
      }
      cache[i] = v;
    }
    return v; // null: a word is not valid UTF-8
  }

  private Map<String, String> materializeMap(int i) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int p = offset(i), end = p + 2 * length(i); p < end; p += 2) {
      String k = word(mapPool[p]);
      String v = word(mapPool[p + 1]);
      if (k == null || v == null) {
        return null;
      }
      m.put(k, v);
    }
    return Collections.unmodifiableMap(m);
  }

  /** Copies every valid entry into {@code target}, later entries overwriting earlier ones. */
  void copyInto(MutableAttributeBag target) {
    for (int i = 0; i < count; i++) {
      int k = nameIndex[i];
      if (k == BAD) {
        continue;
      }
      Object v = value(i);
      String unknownName = k < 0 ? word(k) : null;
      if (v == null || (k < 0 && unknownName == null)) {
        continue;
      }
      if (k >= 0) {
        target.put(NameTable.byId(k), v);
      } else {
        target.putUnknown(unknownName, v);
      }
    }
  }

  @Override
  public Set<String> names() {
    return toMap().keySet();
  }

  @Override
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      if (nameIndex[i] == BAD) {
        continue;
      }
      String name = nameOf(i);
      Object v = value(i);
      if (name != null && v != null) {
        m.put(name, v);
      } else if (name != null) {
        m.remove(name); // the last occurrence is unusable: the attribute is absent
      }
    }
    return m;
  }

  @Override
  public ReferenceLog references() {
    return references;
  }
}
