package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

/**
 * What a client asks of a quota: an amount, and whether less than that will do.
 *
 * <pre>{@code
 * QuotaArgs args = new QuotaArgs("req-42RequestCount.quota.istio-system", 1, false);
 * }</pre>
 *
 * @param deduplicationId identifies a retried request: the same id within the adapter's
 *     deduplication window must not be charged twice
 * @param amount the amount asked for; a negative amount gives back what was allocated (for quotas
 *     that are counters rather than rates, as upstream's memquota)
 * @param bestEffort true to accept a partial grant, false for all or nothing
 */
public record QuotaArgs(String deduplicationId, long amount, boolean bestEffort) {

  /** Checks the parts. */
  public QuotaArgs {
    requireNonNull(deduplicationId, "deduplicationId");
  }
}
