package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStore;
import io.istio4j.pilot.model.ConfigStoreCache;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The parts {@link PilotServer} assembles, as factories: where registries, config stores and the xDS
 * server come from. {@link #standard()} is the real build (pilot/registry, pilot/config, pilot/xds);
 * tests swap in in-memory parts with the {@code with*} methods.
 *
 * @param registries opens one {@code --registries} entry ({@code file://DIR}, {@code kubernetes})
 * @param aggregator the one view of every registry the xDS server reads
 * @param configStores opens {@code --configStoreURL} ({@code fs://DIR}, {@code k8s://})
 * @param xds builds the xDS server over the aggregate view and the config store
 * @param configStatus reads every object's state (accepted, stale, rejected) for {@code /debug/configz}
 * @param validator checks a config directory offline for {@code pilot-discovery validate}
 * @param registryView one registry as {@code /debug/registryz} shows it (JSON-able maps and lists)
 */
public record PilotComponents(
    RegistryOpener registries,
    Aggregator aggregator,
    ConfigStoreOpener configStores,
    XdsFactory xds,
    ConfigStatusReader configStatus,
    DirectoryValidator validator,
    RegistryView registryView) {

  public PilotComponents {
    requireNonNull(registries, "registries");
    requireNonNull(aggregator, "aggregator");
    requireNonNull(configStores, "configStores");
    requireNonNull(xds, "xds");
    requireNonNull(configStatus, "configStatus");
    requireNonNull(validator, "validator");
    requireNonNull(registryView, "registryView");
  }

  /** Opens one registry from its {@code --registries} entry. */
  @FunctionalInterface
  public interface RegistryOpener {
    /**
     * The registry, not started yet.
     *
     * @throws IllegalArgumentException naming the entry when it is not a registry this build knows
     */
    ServiceRegistry open(String spec, DiscoveryOptions options) throws IOException;
  }

  /** Joins registries into one view (the first registry that knows a hostname wins). */
  @FunctionalInterface
  public interface Aggregator {
    ServiceDiscovery aggregate(List<ServiceRegistry> registries);
  }

  /** Opens the config store named by {@code --configStoreURL}. */
  @FunctionalInterface
  public interface ConfigStoreOpener {
    /**
     * The store, not started yet.
     *
     * @throws IllegalArgumentException naming the URL when it is not a store this build knows
     */
    ConfigStoreCache open(String url, DiscoveryOptions options) throws IOException;
  }

  /** Builds the xDS server. */
  @FunctionalInterface
  public interface XdsFactory {
    XdsEndpoint create(ServiceDiscovery discovery, ConfigStore store, MeshSettings mesh);
  }

  /** Reads the state of every config object of a store. */
  @FunctionalInterface
  public interface ConfigStatusReader {
    List<ConfigObjectStatus> read(ConfigStoreCache store);
  }

  /** Checks a directory of config files the way the {@code fs://} store would load it. */
  @FunctionalInterface
  public interface DirectoryValidator {
    /**
     * One line per problem, each naming the file, the object and the field; empty when valid.
     *
     * @throws IOException when the directory cannot be read
     */
    List<String> validate(Path dir, MeshSettings mesh) throws IOException;
  }

  /** Describes a registry for {@code /debug/registryz}. */
  @FunctionalInterface
  public interface RegistryView {
    Map<String, Object> describe(ServiceRegistry registry);
  }

  /** The real build: the file and Kubernetes registries, the fs and k8s stores, the xDS server. */
  public static PilotComponents standard() {
    return StandardComponents.create();
  }

  /** These components with another registry opener. */
  public PilotComponents withRegistries(RegistryOpener value) {
    return new PilotComponents(value, aggregator, configStores, xds, configStatus, validator, registryView);
  }

  /** These components with another aggregator. */
  public PilotComponents withAggregator(Aggregator value) {
    return new PilotComponents(registries, value, configStores, xds, configStatus, validator, registryView);
  }

  /** These components with another config store opener. */
  public PilotComponents withConfigStores(ConfigStoreOpener value) {
    return new PilotComponents(registries, aggregator, value, xds, configStatus, validator, registryView);
  }

  /** These components with another xDS server factory. */
  public PilotComponents withXds(XdsFactory value) {
    return new PilotComponents(registries, aggregator, configStores, value, configStatus, validator, registryView);
  }

  /** These components with another config status reader. */
  public PilotComponents withConfigStatus(ConfigStatusReader value) {
    return new PilotComponents(registries, aggregator, configStores, xds, value, validator, registryView);
  }

  /** These components with another directory validator. */
  public PilotComponents withValidator(DirectoryValidator value) {
    return new PilotComponents(registries, aggregator, configStores, xds, configStatus, value, registryView);
  }

  /** These components with another registry view. */
  public PilotComponents withRegistryView(RegistryView value) {
    return new PilotComponents(registries, aggregator, configStores, xds, configStatus, validator, value);
  }

  /** Every object the store holds, all accepted: for stores that keep no record of rejections. */
  static List<ConfigObjectStatus> listedAsAccepted(ConfigStoreCache store) {
    List<ConfigObjectStatus> out = new ArrayList<>();
    for (ConfigKind kind : ConfigKind.values()) {
      if (!store.kinds().contains(kind)) {
        continue;
      }
      for (Config c : store.list(kind, ConfigStore.NAMESPACE_ALL)) {
        out.add(new ConfigObjectStatus(c.key(), ConfigObjectStatus.State.VALID, null, null));
      }
    }
    return out;
  }
}
