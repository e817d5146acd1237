package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The problems {@link HandlerBuilder#validate()} found in a config, each naming the field path.
 *
 * <pre>{@code
 * ConfigErrors errors = new ConfigErrors();
 * if (params.getQuotasCount() == 0) {
 *   errors.add("quotas", "at least one quota is required");
 * }
 * errors.addf("quotas[%d].maxAmount", "must be > 0, got %d", i, q.getMaxAmount());
 * return errors;
 * }</pre>
 */
public final class ConfigErrors {

  private final List<ConfigError> errors = new ArrayList<>();

  /** Records a problem with {@code field} (a path such as {@code quotas[0].name}). */
  public ConfigErrors add(String field, String message) {
    errors.add(new ConfigError(field, message));
    return this;
  }

  /** Records a problem with a formatted message. */
  public ConfigErrors addf(String field, String format, Object... args) {
    return add(field, String.format(format, args));
  }

  /** Records a problem caused by {@code cause}, with its message. */
  public ConfigErrors add(String field, Throwable cause) {
    String message = cause.getMessage();
    return add(field, message == null ? cause.toString() : message);
  }

  /** True when no problem was recorded. */
  public boolean isEmpty() {
    return errors.isEmpty();
  }

  /** The problems in the order they were added. */
  public List<ConfigError> errors() {
    return List.copyOf(errors);
  }

  /** The problems as {@code field: message} joined with {@code "; "}. */
  @Override
  public String toString() {
    return errors.stream().map(ConfigError::toString).collect(Collectors.joining("; "));
  }

  /**
   * One problem.
   *
   * @param field the field path, for example {@code quotas[0].maxAmount}
   * @param message what is wrong and what was expected
   */
  public record ConfigError(String field, String message) {

    /** Checks the parts. */
    public ConfigError {
      requireNonNull(field, "field");
      requireNonNull(message, "message");
    }

    @Override
    public String toString() {
      return field + ": " + message;
    }
  }
}
