package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The answer of a QUOTA handler.
 *
 * <pre>{@code
 * return QuotaResult.granted(args.amount(), Duration.ofSeconds(1));
 * }</pre>
 *
 * @param status OK, or why nothing could be granted
 * @param validDuration how long the grant is valid
 * @param amount the amount granted (0 when the quota is exhausted)
 */
public record QuotaResult(Status status, Duration validDuration, long amount) {

  /** Checks the parts. */
  public QuotaResult {
    requireNonNull(status, "status");
    requireNonNull(validDuration, "validDuration");
    if (validDuration.isNegative()) {
      throw new IllegalArgumentException("validDuration: " + validDuration + " (expected: >= 0)");
    }
    if (amount < 0) {
      throw new IllegalArgumentException("amount: " + amount + " (expected: >= 0)");
    }
  }

  /** An OK result granting {@code amount} for {@code validDuration}. */
  public static QuotaResult granted(long amount, Duration validDuration) {
    return new QuotaResult(Status.OK, validDuration, amount);
  }
}
