package io.istio4j.mixerclient;

/**
 * What a Check answers when Mixer cannot be reached (connection refused, deadline exceeded after
 * the retries), as Envoy's {@code network_fail_policy}.
 *
 * <pre>{@code
 * MixerClient client = MixerClient.builder().target("mixer:9091").failPolicy(FailPolicy.CLOSE).build();
 * }</pre>
 */
public enum FailPolicy {
  /**
   * Allow the request (the default, as mixerclient's {@code network_fail_open = true}). Mixer's own
   * answer INTERNAL is also treated as allowed, as mixerclient does when failing open.
   */
  OPEN,
  /** Deny the request with UNAVAILABLE (HTTP 503) naming the transport error. */
  CLOSE
}
