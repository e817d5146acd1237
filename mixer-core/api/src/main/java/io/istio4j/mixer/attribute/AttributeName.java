package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An attribute name resolved once, at configuration time, to a process-wide integer id.
 *
 * <p>Ids {@code 0..166} are the global dictionary's indexes, so a name the client sends as a global
 * index needs no lookup at all. Other names get the next free id when first interned. Only
 * configuration interns names: names that appear only in requests are never interned, so clients
 * cannot grow this table.
 *
 * <pre>{@code
 * AttributeName size = AttributeName.of("request.size");   // do this once, when config loads
 * Object value = bag.get(size);                            // per request: an int compare per attribute
 * }</pre>
 */
public final class AttributeName {

  private final int id;
  private final String name;
  private final byte[] utf8;
  private final int hash;

  AttributeName(int id, String name) {
    this.id = id;
    this.name = name;
    this.utf8 = name.getBytes(StandardCharsets.UTF_8);
    this.hash = NameTable.hash(utf8, 0, utf8.length);
  }

  /** Returns the interned name, creating it on first use. Thread-safe; meant for config time. */
  public static AttributeName of(String name) {
    requireNonNull(name, "name");
    return NameTable.intern(name);
  }

  /** The process-wide id of this name; ids below {@link GlobalDictionary#SIZE} are global indexes. */
  public int id() {
    return id;
  }

  /** The attribute name. */
  public String name() {
    return name;
  }

  /** The global dictionary index of this name, or -1 when it is not a global word. */
  public int globalIndex() {
    return id < GlobalDictionary.SIZE ? id : -1;
  }

  byte[] utf8() {
    return utf8;
  }

  int hash() {
    return hash;
  }

  boolean matches(byte[] buf, int off, int len) {
    return len == utf8.length && Arrays.equals(utf8, 0, len, buf, off, off + len);
  }

  @Override
  public String toString() {
    return name;
  }
}
