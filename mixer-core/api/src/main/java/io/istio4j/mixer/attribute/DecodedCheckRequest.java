package io.istio4j.mixer.attribute;

import java.util.Map;

/**
 * A {@code CheckRequest} read straight from its bytes by {@link RequestDecoder}.
 *
 * <pre>{@code
 * DecodedCheckRequest req = RequestDecoder.decodeCheck(bytes);
 * Object service = req.attributes().get(DESTINATION_SERVICE);
 * }</pre>
 *
 * @param attributes the request's attributes; entries with bad indexes are left out
 * @param globalWordCount the number of global words the client knows
 * @param deduplicationId the client's id for this call, reused on retries
 * @param quotas the quotas to allocate, by name
 */
public record DecodedCheckRequest(
    CompressedAttributeBag attributes,
    int globalWordCount,
    String deduplicationId,
    Map<String, QuotaParams> quotas) {

  /**
   * The parameters of one quota allocation.
   *
   * @param amount the amount to allocate
   * @param bestEffort whether less than {@code amount} may be granted
   */
  public record QuotaParams(long amount, boolean bestEffort) {}
}
