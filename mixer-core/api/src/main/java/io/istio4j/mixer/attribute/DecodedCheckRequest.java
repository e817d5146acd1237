package io.istio4j.mixer.attribute;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A {@code CheckRequest} read straight from its bytes by {@link RequestDecoder}.
 *
 * <pre>{@code
 * DecodedCheckRequest req = RequestDecoder.decodeCheck(bytes);
 * Object service = req.attributes().get(DESTINATION_SERVICE);
 * }</pre>
 */
public final class DecodedCheckRequest {

  /**
   * The parameters of one quota allocation.
   *
   * @param amount the amount to allocate
   * @param bestEffort whether less than {@code amount} may be granted
   */
  public record QuotaParams(long amount, boolean bestEffort) {}

  private final CompressedAttributeBag attributes;
  private final int globalWordCount;
  private final byte[] buf;
  private final int deduplicationIdOff;
  private final int deduplicationIdLen;
  private final Map<String, QuotaParams> quotas;

  DecodedCheckRequest(CompressedAttributeBag attributes, int globalWordCount, byte[] buf,
      int deduplicationIdOff, int deduplicationIdLen, Map<String, QuotaParams> quotas) {
    this.attributes = attributes;
    this.globalWordCount = globalWordCount;
    this.buf = buf;
    this.deduplicationIdOff = deduplicationIdOff;
    this.deduplicationIdLen = deduplicationIdLen;
    this.quotas = quotas;
  }

  /** The request's attributes; entries with bad indexes are left out. */
  public CompressedAttributeBag attributes() {
    return attributes;
  }

  /** The number of global words the client knows. */
  public int globalWordCount() {
    return globalWordCount;
  }

  /**
   * The client's id for this call, reused on retries ("" when absent). Decoded when asked for; an
   * id that is not valid UTF-8 has its bad bytes replaced (it is only ever compared for equality).
   */
  public String deduplicationId() {
    return new String(buf, deduplicationIdOff, deduplicationIdLen, StandardCharsets.UTF_8);
  }

  /** The quotas to allocate, by name. */
  public Map<String, QuotaParams> quotas() {
    return quotas;
  }
}
