package io.istio4j.mixer.runtime;

/**
 * The state of one config object in a snapshot, for {@code /debug/config}, {@code mixs validate}
 * and metrics.
 *
 * @param fqn the object's fully qualified name (or the file, for a document that is no object)
 * @param kind the kind
 * @param source where the object came from; for {@link State#STALE}, where the rejected edit is
 * @param state whether it is in use
 * @param field the field the problem is in, or "" ("" also when there is no problem)
 * @param error what is wrong, or ""
 * @param live for {@link State#STALE}, the last good version that stays in use; else null
 */
public record ObjectStatus(String fqn, String kind, String source, State state, String field, String error,
    Live live) {

  /** A status with no last good version in use. */
  public ObjectStatus(String fqn, String kind, String source, State state, String field, String error) {
    this(fqn, kind, source, state, field, error, null);
  }

  /** Whether an object is in use. */
  public enum State {
    /** Valid and in use. */
    ACTIVE,
    /** Valid but nothing refers to it (a handler or instance no rule uses). */
    UNUSED,
    /** Invalid and left out (it had no valid version before); the rest of the config applies. */
    REJECTED,
    /**
     * Its latest version (or its file) was rejected, so its last good version stays in use: a typo
     * in a deny rule never drops the rule. {@link #live()} says which version is in use.
     */
    STALE
  }

  /**
   * The version of an object in use while its latest edit is rejected.
   *
   * @param source where that version came from
   * @param since the snapshot version in which it went live
   * @param state {@link State#ACTIVE} or {@link State#UNUSED}
   */
  public record Live(String source, long since, State state) {}

  static ObjectStatus rejected(String fqn, String kind, String source, String field, String error) {
    return new ObjectStatus(fqn, kind, source, State.REJECTED, field, error, null);
  }

  /** True for a rejected object and for a rejected edit whose last good version stays in use. */
  public boolean isRejection() {
    return state == State.REJECTED || state == State.STALE;
  }

  /** One line: {@code FQN (source): field: error}, and the version in use for a stale object. */
  public String describe() {
    String line = fqn + " (" + source + "): " + (field.isEmpty() ? "" : field + ": ") + error;
    return live == null ? line : line + " [last good version from " + live.source() + " stays in use]";
  }
}
