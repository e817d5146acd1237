package io.istio4j.pilot.model;

import java.util.function.Consumer;

/**
 * A config store that watches its source and tells listeners about changes. Listeners are added
 * before {@link #start}; events arrive one at a time on the store's thread, after the store's view
 * reflects them.
 */
public interface ConfigStoreCache extends ConfigStore, AutoCloseable {
  /** Adds a listener for every kind. */
  void addListener(Consumer<ConfigEvent> listener);

  /** Starts watching; returns at once. */
  void start();

  /** True once the first complete view has been loaded. */
  boolean hasSynced();

  @Override
  void close();
}
