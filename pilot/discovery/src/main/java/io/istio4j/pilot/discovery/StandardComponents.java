package io.istio4j.pilot.discovery;

import io.istio4j.pilot.model.ServiceRegistry;
import io.istio4j.pilot.registry.AggregateRegistry;
import io.istio4j.pilot.registry.Registries;
import io.istio4j.pilot.registry.RegistryDebug;
import io.istio4j.pilot.registry.RegistryOptions;
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
        StandardComponents::openRegistry,
        AggregateRegistry::new,
        (url, options) -> {
          throw new IllegalArgumentException("--configStoreURL " + url + ": no config store is part of this build yet");
        },
        (discovery, store, mesh) -> {
          throw new IllegalStateException("no xDS server is part of this build yet");
        },
        PilotComponents::listedAsAccepted,
        (dir, mesh) -> {
          throw new IllegalStateException("no config validator is part of this build yet");
        },
        RegistryDebug::describe);
  }

  /**
   * One {@code --registries} entry. {@link Registries#open} takes the whole list and answers with
   * their aggregate; asked for one entry, its aggregate holds exactly that registry, which is what
   * the process keeps (it builds the aggregate itself, over every entry, and reports each one).
   */
  private static ServiceRegistry openRegistry(String spec, DiscoveryOptions options) {
    String ns = options.mesh().appNamespace();
    RegistryOptions o = RegistryOptions.of(options.mesh().domain())
        .withKubernetesNamespace(ns.isEmpty() ? null : ns)
        .withFilePollInterval(options.filePollInterval());
    List<ServiceRegistry> one = Registries.open(spec, o).registries();
    return one.get(0);
  }
}
