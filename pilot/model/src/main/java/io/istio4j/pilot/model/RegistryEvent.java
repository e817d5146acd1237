package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

/**
 * A change in a registry. {@code hostname} names the service whose definition ({@link Kind#SERVICE})
 * or instances ({@link Kind#INSTANCES}) changed, so a consumer can rebuild only what depends on it.
 * The registry's view read by a listener is at least as fresh as the event.
 */
public record RegistryEvent(String registry, Kind kind, EventType type, String hostname) {
  /** Which side of a service changed. */
  public enum Kind {
    SERVICE,
    INSTANCES
  }

  public RegistryEvent {
    requireNonNull(registry, "registry");
    requireNonNull(kind, "kind");
    requireNonNull(type, "type");
    requireNonNull(hostname, "hostname");
  }
}
