package io.istio4j.mixer.expr;

/**
 * The types of attribute values and expressions, numbered as upstream's
 * {@code istio.mixer.v1.config.descriptor.ValueType}.
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

  /** True for the types whose values are Java Strings. */
  public boolean isStringLike() {
    return this == STRING || this == EMAIL_ADDRESS || this == URI || this == DNS_NAME;
  }
}
