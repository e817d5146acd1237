package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;

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
  private static final java.util.Map<String, MapKey> REGISTERED = new java.util.HashMap<>();
  private static volatile MapKey[] byId = new MapKey[0];

  private final String key;
  private final byte[] utf8;
  private final int globalIndex;
  private final int tag;
  private final int id;

  private MapKey(String key, int id) {
    this.key = key;
    this.utf8 = key.getBytes(StandardCharsets.UTF_8);
    this.globalIndex = GlobalDictionary.indexOf(key);
    this.tag = tag(utf8, 0, utf8.length);
    this.id = id;
  }

  /**
   * A cheap fingerprint of a key (its length and first, second and last bytes), compared before
   * the bytes themselves when scanning a map.
   */
  static int tag(byte[] b, int off, int len) {
    if (len == 0) {
      return 0;
    }
    return len << 24 | (b[off] & 0xff) << 16 | (b[off + (len > 1 ? 1 : 0)] & 0xff) << 8
        | (b[off + len - 1] & 0xff);
  }

  int tag() {
    return tag;
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
        MapKey[] ids = byId;
        k = new MapKey(key, ids.length);
        REGISTERED.put(key, k);
        MapKey[] grown = java.util.Arrays.copyOf(ids, ids.length + 1);
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

  boolean matches(byte[] buf, int off, int len) {
    byte[] k = utf8;
    if (len != k.length) {
      return false;
    }
    for (int i = 0; i < len; i++) { // keys are short: a plain loop beats the ranged Arrays.equals
      if (k[i] != buf[off + i]) {
        return false;
      }
    }
    return true;
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
