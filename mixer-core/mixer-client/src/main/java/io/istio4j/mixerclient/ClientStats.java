package io.istio4j.mixerclient;

/**
 * Counters of one {@link MixerClient} since it was built, for a service's own metrics.
 *
 * <pre>{@code
 * ClientStats s = client.stats();
 * double hitRatio = (double) s.checkCacheHits() / s.checks();
 * }</pre>
 *
 * @param checks Check calls made on the client
 * @param checkCacheHits answered from the Check cache (including those then served by the quota pool)
 * @param remoteChecks Check RPCs sent to Mixer (requests, quota fetches and retries)
 * @param uncacheableChecks Mixer answers not cached: a REGEX reference, no valid duration, a use
 *     count of 0 or 1, or too many shapes
 * @param quotaPoolGrants quota amounts granted from the local pool without a call
 * @param quotaPoolDenials quota requests denied from the local pool (Mixer said the quota was
 *     exhausted within the close-wait)
 * @param quotaFetches quota prefetch calls (synchronous and asynchronous)
 * @param failedOpen Checks allowed because Mixer could not be reached (or answered INTERNAL)
 * @param failedClosed Checks denied because Mixer could not be reached
 * @param reportsQueued records accepted by {@link MixerClient#report}
 * @param reportsSent records Mixer acknowledged
 * @param reportsDropped records not sent: the queue was full, the client closed, or Mixer failed
 *     every retry of their batch
 * @param reportBatches Report RPCs that succeeded
 */
public record ClientStats(long checks, long checkCacheHits, long remoteChecks, long uncacheableChecks,
    long quotaPoolGrants, long quotaPoolDenials, long quotaFetches, long failedOpen, long failedClosed,
    long reportsQueued, long reportsSent, long reportsDropped, long reportBatches) {}
