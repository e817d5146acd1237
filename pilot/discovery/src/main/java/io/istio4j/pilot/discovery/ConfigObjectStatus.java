package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One config object as {@code /debug/configz} and the {@code pilot_config_objects} metric show it.
 *
 * @param key upstream's key, {@code type/namespace/name} (or the file, for a file that names no object)
 * @param state {@link State#VALID}, {@link State#STALE} (an edit was rejected; the last valid version
 *     is still served) or {@link State#REJECTED} (no valid version exists; nothing is served for it)
 * @param source where the object came from (a file, a Kubernetes resource), if known
 * @param error why the latest version was rejected, naming the field; null when valid
 */
public record ConfigObjectStatus(String key, State state, @Nullable String source, @Nullable String error) {

  /** Whether an object's latest version is in use. */
  public enum State {
    VALID,
    STALE,
    REJECTED
  }

  public ConfigObjectStatus {
    requireNonNull(key, "key");
    requireNonNull(state, "state");
  }
}
