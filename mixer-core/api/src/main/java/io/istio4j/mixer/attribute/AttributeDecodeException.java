package io.istio4j.mixer.attribute;

/**
 * Thrown when request bytes cannot be decoded into attributes. The message names the problem; when
 * {@link #isInvalidIndex()} is true it starts with {@link #INVALID_ATTRIBUTES_PREFIX}, the text
 * mixerclient keys its dictionary fallback on.
 */
public final class AttributeDecodeException extends RuntimeException {

  /** The message prefix upstream clients recognise (mixerclient shrinks its dictionary on it). */
  public static final String INVALID_ATTRIBUTES_PREFIX =
      "Request could not be processed due to invalid attributes";

  private final boolean invalidIndex;
  private final boolean limit;
  private final String detail;

  private AttributeDecodeException(String message, String detail, boolean invalidIndex, boolean limit) {
    super(message, null, false, false);
    this.detail = detail;
    this.invalidIndex = invalidIndex;
    this.limit = limit;
  }

  /** Bytes that are not a well-formed protobuf message of the expected type. */
  static AttributeDecodeException malformed(String detail) {
    return new AttributeDecodeException("malformed request: " + detail, detail, false, false);
  }

  /** A dictionary index outside both dictionaries, or a value that cannot be represented. */
  static AttributeDecodeException invalidIndex(String detail) {
    return new AttributeDecodeException(INVALID_ATTRIBUTES_PREFIX + ": " + detail, detail, true, false);
  }

  /** A request over one of the {@link DecodeLimits}. */
  static AttributeDecodeException limit(String detail) {
    return new AttributeDecodeException("request too large: " + detail, detail, false, true);
  }

  /** The problem, without the prefix. */
  public String detail() {
    return detail;
  }

  /** True when the request exceeds one of the {@link DecodeLimits}. */
  public boolean isLimit() {
    return limit;
  }

  /** True when this error is about dictionary indexes (the client may retry with fewer global words). */
  public boolean isInvalidIndex() {
    return invalidIndex;
  }
}
