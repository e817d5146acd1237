package io.istio4j.mixer.runtime;

/**
 * The state of one config object in a snapshot, for {@code /debug/config}, {@code mixs validate}
 * and metrics.
 *
 * @param fqn the object's fully qualified name (or the file, for a document that is no object)
 * @param kind the kind
 * @param source where the object came from
 * @param state whether it is in use
 * @param field the field the problem is in, or "" ("" also when there is no problem)
 * @param error what is wrong, or ""
 */
public record ObjectStatus(String fqn, String kind, String source, State state, String field, String error) {

  /** Whether an object is in use. */
  public enum State {
    /** Valid and in use. */
    ACTIVE,
    /** Valid but nothing refers to it (a handler or instance no rule uses). */
    UNUSED,
    /** Invalid and left out; the rest of the config applies. */
    REJECTED
  }

  static ObjectStatus rejected(String fqn, String kind, String source, String field, String error) {
    return new ObjectStatus(fqn, kind, source, State.REJECTED, field, error);
  }

  /** One line: {@code FQN (source): field: error}. */
  public String describe() {
    return fqn + " (" + source + "): " + (field.isEmpty() ? "" : field + ": ") + error;
  }
}
