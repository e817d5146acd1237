package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

/** A change in a config store: the object after the change (before it, for a delete). */
public record ConfigEvent(EventType type, Config config) {
  public ConfigEvent {
    requireNonNull(type, "type");
    requireNonNull(config, "config");
  }
}
