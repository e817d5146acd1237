package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

/**
 * The outcome of a check or quota call, as a {@code google.rpc.Status}: a canonical code and a
 * message for the client.
 *
 * <pre>{@code
 * Status denied = Status.of(Status.Code.PERMISSION_DENIED, "ip 10.0.0.1 is blacklisted");
 * if (denied.isOk()) { ... }
 * }</pre>
 *
 * @param code the canonical code
 * @param message a message for the client; empty for OK
 */
public record Status(Code code, String message) {

  /** The OK status. */
  public static final Status OK = new Status(Code.OK, "");

  /** Checks the parts. */
  public Status {
    requireNonNull(code, "code");
    requireNonNull(message, "message");
  }

  /** A status with {@code code} and {@code message}. */
  public static Status of(Code code, String message) {
    return code == Code.OK && message.isEmpty() ? OK : new Status(code, message);
  }

  /** A status with the numeric {@code code} of google.rpc.Code; unknown numbers become UNKNOWN. */
  public static Status of(int code, String message) {
    return of(Code.forNumber(code), message);
  }

  /** True when the code is OK. */
  public boolean isOk() {
    return code == Code.OK;
  }

  /** The canonical codes of {@code google.rpc.Code}, with their numbers. */
  public enum Code {
    OK(0),
    CANCELLED(1),
    UNKNOWN(2),
    INVALID_ARGUMENT(3),
    DEADLINE_EXCEEDED(4),
    NOT_FOUND(5),
    ALREADY_EXISTS(6),
    PERMISSION_DENIED(7),
    RESOURCE_EXHAUSTED(8),
    FAILED_PRECONDITION(9),
    ABORTED(10),
    OUT_OF_RANGE(11),
    UNIMPLEMENTED(12),
    INTERNAL(13),
    UNAVAILABLE(14),
    DATA_LOSS(15),
    UNAUTHENTICATED(16);

    private static final Code[] BY_NUMBER = values();

    private final int number;

    Code(int number) {
      this.number = number;
    }

    /** The number of this code on the wire. */
    public int number() {
      return number;
    }

    /** The code numbered {@code number}; UNKNOWN for numbers outside 0-16. */
    public static Code forNumber(int number) {
      return number >= 0 && number < BY_NUMBER.length ? BY_NUMBER[number] : UNKNOWN;
    }
  }
}
