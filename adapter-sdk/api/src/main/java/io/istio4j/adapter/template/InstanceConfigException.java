package io.istio4j.adapter.template;

/** An instance config that cannot be compiled: a field is empty, does not parse or has the wrong type. */
public final class InstanceConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String field;

  /** A problem with {@code field} (a proto field name, {@code name[key]} for a map entry). */
  public InstanceConfigException(String field, String message) {
    super(message);
    this.field = field;
  }

  /** The field the problem is in. */
  public String field() {
    return field;
  }
}
