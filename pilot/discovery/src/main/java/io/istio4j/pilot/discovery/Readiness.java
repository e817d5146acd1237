package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

/**
 * Whether Pilot should get traffic, and why: what {@code /readyz} answers (200 or 503 with the reason).
 *
 * @param reason what is serving, or what Pilot is still waiting for
 */
public record Readiness(boolean ready, String reason) {
  public Readiness {
    requireNonNull(reason, "reason");
  }

  static Readiness ready(String reason) {
    return new Readiness(true, reason);
  }

  static Readiness notReady(String reason) {
    return new Readiness(false, reason);
  }
}
