package io.istio4j.pilot.discovery;

import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceRegistry;
import java.util.List;

/**
 * The wiring of the real parts: pilot/registry's registries and aggregate view, pilot/config's stores
 * and validator, pilot/xds's server. Kept in one place so that the process's own code depends on the
 * other modules only here.
 */
final class StandardComponents {

  private StandardComponents() {}

  static PilotComponents create() {
    return new PilotComponents(
        (spec, mesh) -> {
          throw new IllegalArgumentException("--registries " + spec + ": no registry is part of this build yet");
        },
        StandardComponents::single,
        (url, mesh) -> {
          throw new IllegalArgumentException("--configStoreURL " + url + ": no config store is part of this build yet");
        },
        (discovery, store, mesh) -> {
          throw new IllegalStateException("no xDS server is part of this build yet");
        },
        PilotComponents::listedAsAccepted,
        (dir, mesh) -> {
          throw new IllegalStateException("no config validator is part of this build yet");
        });
  }

  private static ServiceDiscovery single(List<ServiceRegistry> registries) {
    if (registries.size() != 1) {
      throw new IllegalArgumentException("--registries: only one registry is supported by this build");
    }
    return registries.get(0);
  }
}
