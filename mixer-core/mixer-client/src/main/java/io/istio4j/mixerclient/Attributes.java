package io.istio4j.mixerclient;

import static java.util.Objects.requireNonNull;

import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CompressedAttributes;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * An immutable set of Mixer attributes for one request, built once and handed to
 * {@link MixerClient#check} and {@link MixerClient#report}.
 *
 * <p>Values are kept in the form they travel in: STRING as {@link String}, INT64 as {@link Long}
 * ({@link Integer} is widened), DOUBLE, BOOL, TIMESTAMP as {@link Instant}, DURATION as
 * {@link Duration}, BYTES and IP_ADDRESS as {@code byte[]} ({@link InetAddress} becomes its address
 * bytes, as Envoy sends {@code source.ip}), STRING_MAP as {@code Map<String, String>}. Arrays and maps
 * are copied on the way in, so the caller may reuse its own.
 *
 * <pre>{@code
 * Attributes attrs = Attributes.builder()
 *     .put("destination.service", "ratings.default.svc.cluster.local")
 *     .put("request.path", "/ratings/0")
 *     .put("request.headers", Map.of("x-user", "jason"))
 *     .put("request.time", Instant.now())
 *     .build();
 * }</pre>
 *
 * <p>On the wire (see {@link #encode}) names and string values that are words of the 167-word global
 * dictionary travel as their global index; every other word goes once into the message's own
 * dictionary, exactly as mixerclient's {@code MessageDictionary} does.
 */
public final class Attributes {

  private static final Attributes EMPTY = new Attributes(Map.of());

  private final Map<String, Object> values;

  private Attributes(Map<String, Object> values) {
    this.values = values;
  }

  /** No attributes. */
  public static Attributes empty() {
    return EMPTY;
  }

  /** A builder with no attributes. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these attributes, to add to or overwrite. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.values.putAll(values);
    return b;
  }

  /** The value of {@code name}, or null when absent. Arrays and maps must not be modified. */
  public @Nullable Object get(String name) {
    return values.get(name);
  }

  /** The number of attributes. */
  public int size() {
    return values.size();
  }

  /** All attributes by name (unmodifiable; arrays inside must not be modified). */
  public Map<String, Object> asMap() {
    return values;
  }

  /**
   * Encodes these attributes for a client and server that share the first {@code globalWordCount}
   * words of the global dictionary.
   */
  public CompressedAttributes encode(int globalWordCount) {
    return AttributesEncoder.encode(values, globalWordCount);
  }

  @Override
  public String toString() {
    return "Attributes" + values.keySet();
  }

  /**
   * Builds {@link Attributes}. Not thread-safe; {@link #build} may be called more than once.
   */
  public static final class Builder {
    private final Map<String, Object> values = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Sets {@code name} to {@code value}, replacing an earlier value.
     *
     * @throws IllegalArgumentException when {@code value} is not one of the types listed on
     *     {@link Attributes}
     */
    public Builder put(String name, Object value) {
      requireNonNull(name, "name");
      values.put(name, AttributesEncoder.normalize(name, value));
      return this;
    }

    /** Sets {@code name} unless {@code value} is null (handy for optional request data). */
    public Builder putIfNotNull(String name, @Nullable Object value) {
      return value == null ? this : put(name, value);
    }

    /** Copies every attribute of {@code other} in, replacing values of the same names. */
    public Builder putAll(Attributes other) {
      values.putAll(other.values);
      return this;
    }

    /** Removes {@code name}. */
    public Builder remove(String name) {
      values.remove(name);
      return this;
    }

    /** The attributes set so far. */
    public Attributes build() {
      return new Attributes(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
    }
  }
}
