package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

/**
 * One problem in a config object: the field it is in, as a path of JSON names ({@code
 * spec.route[1].weight}, {@code metadata.name}; "" for the object as a whole), and what is wrong.
 */
public record FieldError(String field, String message) {
  public FieldError {
    requireNonNull(field, "field");
    requireNonNull(message, "message");
  }

  /** {@code field: message}, or just the message when the error is about the whole object. */
  @Override
  public String toString() {
    return field.isEmpty() ? message : field + ": " + message;
  }
}
