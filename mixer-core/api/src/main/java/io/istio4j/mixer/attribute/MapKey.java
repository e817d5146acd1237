package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

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

  private final String key;
  private final byte[] utf8;
  private final int globalIndex;

  private MapKey(String key) {
    this.key = key;
    this.utf8 = key.getBytes(StandardCharsets.UTF_8);
    this.globalIndex = GlobalDictionary.indexOf(key);
  }

  /** Returns a prepared key. */
  public static MapKey of(String key) {
    return new MapKey(requireNonNull(key, "key"));
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
    return len == utf8.length && Arrays.equals(utf8, 0, len, buf, off, off + len);
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
