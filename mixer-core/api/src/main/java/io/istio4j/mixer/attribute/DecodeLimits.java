package io.istio4j.mixer.attribute;

/**
 * Bounds on what one request may ask the decoder to hold, on top of the transport's message-size
 * limit. Envoy sends about 30 attributes and mixerclient batches at most 1000 reports; the defaults
 * leave ample room above that while keeping a hostile request's cost linear and small.
 *
 * <pre>{@code
 * DecodeLimits limits = new DecodeLimits(4096, 4096, 65536, 10000, 64);
 * }</pre>
 *
 * @param maxAttributes attributes in one CompressedAttributes
 * @param maxStringMapEntries entries in one STRING_MAP value
 * @param maxWords words in one message dictionary
 * @param maxReportRecords records in one ReportRequest
 * @param maxQuotas distinct quota names in one CheckRequest (Envoy asks for one, {@code RequestCount})
 */
public record DecodeLimits(int maxAttributes, int maxStringMapEntries, int maxWords, int maxReportRecords,
    int maxQuotas) {

  /** The limits the server uses unless told otherwise. */
  public static final DecodeLimits DEFAULT = new DecodeLimits(4096, 4096, 65536, 10000, 64);

  public DecodeLimits {
    if (maxAttributes < 1 || maxStringMapEntries < 1 || maxWords < 1 || maxReportRecords < 1 || maxQuotas < 1) {
      throw new IllegalArgumentException("limits must be positive: " + maxAttributes + ", "
          + maxStringMapEntries + ", " + maxWords + ", " + maxReportRecords + ", " + maxQuotas);
    }
  }

  /** Limits with the default {@code maxQuotas}. */
  public DecodeLimits(int maxAttributes, int maxStringMapEntries, int maxWords, int maxReportRecords) {
    this(maxAttributes, maxStringMapEntries, maxWords, maxReportRecords, 64);
  }
}
