package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The answer of a CHECK handler: a status, and how long and how many times the client may reuse
 * it from its cache.
 *
 * <pre>{@code
 * return CheckResult.of(Status.OK, Duration.ofSeconds(60), 10_000);
 * }</pre>
 *
 * @param status OK to allow, anything else to deny with that code and message
 * @param validDuration how long the answer may be cached
 * @param validUseCount how many requests the cached answer may serve
 */
public record CheckResult(Status status, Duration validDuration, int validUseCount) {

  /** Checks the parts. */
  public CheckResult {
    requireNonNull(status, "status");
    requireNonNull(validDuration, "validDuration");
    if (validDuration.isNegative()) {
      throw new IllegalArgumentException("validDuration: " + validDuration + " (expected: >= 0)");
    }
    if (validUseCount < 0) {
      throw new IllegalArgumentException("validUseCount: " + validUseCount + " (expected: >= 0)");
    }
  }

  /** A result with the given parts. */
  public static CheckResult of(Status status, Duration validDuration, int validUseCount) {
    return new CheckResult(status, validDuration, validUseCount);
  }

  /**
   * Combines two results as Mixer does for the handlers of one request: the shorter duration, the
   * smaller use count, and this status unless it is OK and the other one is not.
   */
  public CheckResult combine(CheckResult other) {
    Duration d = validDuration.compareTo(other.validDuration) <= 0 ? validDuration : other.validDuration;
    int count = Math.min(validUseCount, other.validUseCount);
    Status s = status.isOk() ? other.status : status;
    return new CheckResult(s, d, count);
  }
}
