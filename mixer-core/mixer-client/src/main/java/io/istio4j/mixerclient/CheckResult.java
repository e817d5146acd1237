package io.istio4j.mixerclient;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;

/**
 * The answer to one {@link MixerClient#check}: a gRPC status code (0 = allowed), Mixer's message
 * and where the answer came from.
 *
 * <pre>{@code
 * CheckResult r = client.check(attrs);
 * if (!r.allowed()) {
 *   response.sendError(r.httpStatus(), r.message());
 * }
 * }</pre>
 *
 * @param code the gRPC status code: Mixer's precondition status, RESOURCE_EXHAUSTED when a quota
 *     was not granted, UNAVAILABLE when failing closed
 * @param message Mixer's status message (for a denial, {@code "<handler>:<reason>"}), or the
 *     transport error when failing closed; empty when allowed
 * @param source where the answer came from
 */
public record CheckResult(int code, String message, Source source) {

  /** Where a {@link CheckResult} came from. */
  public enum Source {
    /** A Check call to Mixer. */
    MIXER,
    /** The Check cache (no call made). */
    CACHE,
    /** A cached precondition and the local quota pool (no call made on the request's path). */
    QUOTA_POOL,
    /** Mixer could not be reached, or answered INTERNAL, and the policy is {@link FailPolicy#OPEN}. */
    FAIL_OPEN,
    /** Mixer could not be reached and the policy is {@link FailPolicy#CLOSE}. */
    FAIL_CLOSE
  }

  /** Checks the fields. */
  public CheckResult {
    requireNonNull(message, "message");
    requireNonNull(source, "source");
  }

  static CheckResult ok(Source source) {
    return new CheckResult(0, "", source);
  }

  /** Whether the request may proceed. */
  public boolean allowed() {
    return code == 0;
  }

  /** The gRPC status a server answers a denied call with (OK when allowed). */
  public Status toStatus() {
    Status s = Status.fromCodeValue(code);
    return message.isEmpty() ? s : s.withDescription(message);
  }

  /** The HTTP status Envoy's mixer filter answers this code with (200 when allowed). */
  public int httpStatus() {
    return httpStatus(code);
  }

  /**
   * Envoy's mapping of a gRPC status code to an HTTP status (proxy 0.3.0): PERMISSION_DENIED 403,
   * RESOURCE_EXHAUSTED 429, UNAUTHENTICATED 401, INVALID_ARGUMENT, FAILED_PRECONDITION and
   * OUT_OF_RANGE 400, NOT_FOUND 404, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, CANCELLED 499, the rest
   * 500.
   */
  public static int httpStatus(int grpcCode) {
    return switch (Status.fromCodeValue(grpcCode).getCode()) {
      case OK -> 200;
      case PERMISSION_DENIED -> 403;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAUTHENTICATED -> 401;
      case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
      case NOT_FOUND -> 404;
      case UNAVAILABLE -> 503;
      case DEADLINE_EXCEEDED -> 504;
      case CANCELLED -> 499;
      default -> 500;
    };
  }
}
