package io.istio4j.pilot.model;

import java.util.function.Consumer;

/**
 * A source of services: Kubernetes, files, and later Consul and Eureka. Listeners are added before
 * {@link #start}; events are delivered on the registry's own thread, one at a time, after the
 * registry's view already reflects them.
 */
public interface ServiceRegistry extends ServiceDiscovery, AutoCloseable {
  /** A short name for logs and debug pages, e.g. {@code Kubernetes} or {@code file:/etc/services}. */
  String name();

  /** Adds a listener for changes. */
  void addListener(Consumer<RegistryEvent> listener);

  /** Starts watching the source; returns at once. */
  void start();

  /** True once the first complete view of the source has been loaded. */
  boolean hasSynced();

  /** Stops watching and releases threads and connections. */
  @Override
  void close();
}
