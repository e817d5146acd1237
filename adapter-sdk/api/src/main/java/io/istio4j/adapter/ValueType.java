package io.istio4j.adapter;

/**
 * The types of attribute values and expressions, numbered as upstream's
 * {@code istio.mixer.v1.config.descriptor.ValueType}. A template field declared as a ValueType
 * takes the type of its expression; adapters learn it from the template's {@code <Name>Type}.
 *
 * <p>Values reach adapters as these Java types: STRING, EMAIL_ADDRESS, URI and DNS_NAME
 * {@link String}; INT64 {@link Long}; DOUBLE {@link Double}; BOOL {@link Boolean}; TIMESTAMP
 * {@link java.time.Instant}; DURATION {@link java.time.Duration}; IP_ADDRESS {@code byte[]} (4 or
 * 16 bytes); STRING_MAP {@code Map<String, String>}.
 *
 * <pre>{@code
 * Map<String, ValueType> manifest = Map.of("request.size", ValueType.INT64);
 * }</pre>
 */
public enum ValueType {
  VALUE_TYPE_UNSPECIFIED(0),
  STRING(1),
  INT64(2),
  DOUBLE(3),
  BOOL(4),
  TIMESTAMP(5),
  IP_ADDRESS(6),
  EMAIL_ADDRESS(7),
  URI(8),
  DNS_NAME(9),
  DURATION(10),
  STRING_MAP(11);

  private final int number;

  ValueType(int number) {
    this.number = number;
  }

  /** The protobuf enum number. */
  public int number() {
    return number;
  }

  /** The type with protobuf enum number {@code number}; VALUE_TYPE_UNSPECIFIED for unknown ones. */
  public static ValueType forNumber(int number) {
    for (ValueType t : values()) {
      if (t.number == number) {
        return t;
      }
    }
    return VALUE_TYPE_UNSPECIFIED;
  }

  /** True for the types whose values are Java Strings. */
  public boolean isStringLike() {
    return this == STRING || this == EMAIL_ADDRESS || this == URI || this == DNS_NAME;
  }
}
