package io.istio4j.mixer.attribute;

import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The attributes of one request, with a log of every lookup made on them.
 *
 * <p>Values have these Java types: STRING (and the other string-like types) {@link String}; INT64
 * {@link Long}; DOUBLE {@link Double}; BOOL {@link Boolean}; TIMESTAMP {@link java.time.Instant};
 * DURATION {@link java.time.Duration}; bytes and IP_ADDRESS {@code byte[]}; STRING_MAP
 * {@code Map<String, String>}. Values are shared, not copied: a {@code byte[]} handed out must not
 * be modified, and maps are unmodifiable.
 *
 * <p>{@link #get} and {@link #getMapValue} record what they read in {@link #references()}: a found
 * attribute as EXACT, a missing one as ABSENCE, and map keys one by one. Those records become the
 * response's ReferencedAttributes, which clients use as their cache key.
 *
 * <pre>{@code
 * static final AttributeName SERVICE = AttributeName.of("destination.service");
 * Object service = bag.get(SERVICE);                     // recorded EXACT or ABSENCE
 * ReferencedAttributes refs = bag.references().encode(request.globalWordCount());
 * }</pre>
 */
public interface AttributeBag {

  /** Returns the value of {@code name}, or null when absent; records the lookup. */
  @Nullable Object get(AttributeName name);

  /**
   * Returns the value under {@code key} in the STRING_MAP attribute {@code map}, or null. Records
   * ABSENCE of {@code map} when the map is missing, else EXACT or ABSENCE of the single key.
   */
  @Nullable String getMapValue(AttributeName map, MapKey key);

  /** Whether {@code name} is present. Not recorded: use it to tell apart outcomes already recorded. */
  boolean contains(AttributeName name);

  /** The names of all attributes present. Not recorded. */
  Set<String> names();

  /** All attributes present, by name, in the types listed above. Not recorded. */
  Map<String, Object> toMap();

  /** The log of lookups made so far. */
  ReferenceLog references();
}
