package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The state of one object (or of one unreadable file or nameless document) in a watching store,
 * for {@code /debug/configz}.
 *
 * @param key {@code type/namespace/name}, or "" for a file or a document with no readable identity
 * @param source where the latest version is ({@code file:LINE}, or the Kubernetes object)
 * @param state whether it is served
 * @param errors why the latest version was rejected; empty when {@link State#VALID}
 * @param liveSource for {@link State#STALE}, where the version still served came from; else ""
 */
public record ConfigObjectStatus(String key, String source, State state, List<String> errors, String liveSource) {

  /** Whether an object is served. */
  public enum State {
    /** Its latest version is valid and served. */
    VALID,
    /** Its latest version (or its file) was rejected; its last valid version is still served. */
    STALE,
    /** Rejected, and no earlier valid version exists: not served. */
    REJECTED
  }

  public ConfigObjectStatus {
    requireNonNull(key, "key");
    requireNonNull(source, "source");
    requireNonNull(state, "state");
    errors = List.copyOf(requireNonNull(errors, "errors"));
    requireNonNull(liveSource, "liveSource");
  }

  /** One line: {@code key (source): STATE: errors [last valid version from X stays in use]}. */
  public String describe() {
    String line = (key.isEmpty() ? source : key + " (" + source + ")") + ": " + state
        + (errors.isEmpty() ? "" : ": " + String.join("; ", errors));
    return state == State.STALE ? line + " [last valid version from " + liveSource + " stays in use]" : line;
  }
}
