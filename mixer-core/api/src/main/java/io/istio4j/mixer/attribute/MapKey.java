package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A key of a STRING_MAP attribute, prepared so that looking it up in a request compares integers or
 * bytes and allocates nothing.
 *
 * <pre>{@code
 * MapKey user = MapKey.of("x-user");                         // config time
 * String value = bag.getMapValue(REQUEST_HEADERS, user);     // records request.headers["x-user"]
 * }</pre>
 */
public final class MapKey {

  private static final Object LOCK = new Object();
  private static final Map<String, MapKey> REGISTERED = new HashMap<>();
  private static volatile MapKey[] byId = new MapKey[0];

  private final String key;
  private final byte[] utf8;
  private final int globalIndex;
  private final long fingerprint;
  private final int id;

  private MapKey(String key, int id) {
    this.key = key;
    this.utf8 = key.getBytes(StandardCharsets.UTF_8);
    this.globalIndex = GlobalDictionary.indexOf(key);
    this.fingerprint = fingerprint(utf8, 0, utf8.length);
    this.id = id;
  }

  /**
   * A key's length and first seven bytes in one long. Two keys of at most seven bytes are equal
   * exactly when their fingerprints are; longer keys with equal fingerprints compare their bytes.
   */
  static long fingerprint(byte[] b, int off, int len) {
    long v = (long) Math.min(len, 255) << 56;
    for (int i = 0, n = Math.min(len, 7); i < n; i++) {
      v |= (b[off + i] & 0xffL) << (8 * i);
    }
    return v;
  }

  private static final VarHandle LONGS = MethodHandles
      .byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final long[] GLOBAL_PRINTS = new long[GlobalDictionary.SIZE];

  static {
    for (int i = 0; i < GLOBAL_PRINTS.length; i++) {
      byte[] w = GlobalDictionary.utf8(i);
      GLOBAL_PRINTS[i] = fingerprint(w, 0, w.length);
    }
  }

  /** The fingerprint of global word {@code index}. */
  static long globalFingerprint(int index) {
    return GLOBAL_PRINTS[index];
  }

  /** {@link #fingerprint}, reading eight bytes at once when the buffer has them. */
  static long fingerprintAt(byte[] b, int off, int len) {
    if (off + 8 > b.length) {
      return fingerprint(b, off, len);
    }
    long mask = len >= 7 ? 0x00ff_ffff_ffff_ffffL : (1L << (8 * len)) - 1;
    return (long) Math.min(len, 255) << 56 | ((long) LONGS.get(b, off) & mask);
  }

  long fingerprint() {
    return fingerprint;
  }

  /** True when equal fingerprints already prove equal keys. */
  boolean fingerprintIsExact() {
    return utf8.length <= 7;
  }

  /**
   * Returns the prepared key, registering it on first use so that recording a lookup of it stores
   * an int. For keys named in config; thread-safe.
   */
  public static MapKey of(String key) {
    requireNonNull(key, "key");
    synchronized (LOCK) {
      MapKey k = REGISTERED.get(key);
      if (k == null) {
        k = new MapKey(key, REGISTERED.size());
        REGISTERED.put(key, k);
        MapKey[] ids = byId;
        // Doubling, so that a config naming 100,000 keys (one long expression) registers in linear
        // time; the volatile write publishes the new slot to readers of any id handed out so far.
        MapKey[] grown = k.id < ids.length ? ids : Arrays.copyOf(ids, Math.max(16, ids.length * 2));
        grown[k.id] = k;
        byId = grown;
      }
      return k;
    }
  }

  /** A key computed while serving a request (a dynamic index): not registered, so requests cannot grow the registry. */
  public static MapKey unregistered(String key) {
    return new MapKey(requireNonNull(key, "key"), -1);
  }

  /** The registry id, or -1 for an unregistered key. */
  int id() {
    return id;
  }

  static MapKey byId(int id) {
    return byId[id];
  }

  /** The key text. */
  public String key() {
    return key;
  }

  /** The global dictionary index of this key, or -1 when it is not a global word. */
  public int globalIndex() {
    return globalIndex;
  }

  // Small enough (under 35 bytes of bytecode) for the JIT to inline even where the profile says the
  // call is rare, as it is behind the fingerprint check when scanning a map.
  boolean matches(byte[] buf, int off, int len) {
    return Arrays.equals(utf8, 0, utf8.length, buf, off, off + len);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MapKey && ((MapKey) o).key.equals(key);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return key;
  }
}
