package io.istio4j.mixer.runtime;

import static java.util.Objects.requireNonNull;

/**
 * Whether Mixer should get traffic, and why (or why not), for {@code /readyz} and the gRPC health
 * service.
 *
 * <pre>{@code
 * Readiness r = runtime.readiness();
 * if (!r.ready()) {
 *   log.warn("not ready: {}", r.reason());
 * }
 * }</pre>
 *
 * @param ready true when requests get the configured answers
 * @param reason one line: what is live, or what is missing
 */
public record Readiness(boolean ready, String reason) {

  /** Checks the parts. */
  public Readiness {
    requireNonNull(reason, "reason");
  }

  /** Ready, because of {@code reason}. */
  public static Readiness ready(String reason) {
    return new Readiness(true, reason);
  }

  /** Not ready, because of {@code reason}. */
  public static Readiness notReady(String reason) {
    return new Readiness(false, reason);
  }
}
