package io.istio4j.pilot.config;

import io.istio4j.pilot.model.ConfigStoreCache;
import java.util.List;

/**
 * A watching config store that validates what it reads, serves only valid objects (keeping the last
 * valid version of an object whose latest version is invalid) and says why anything was rejected.
 * Opened by {@link ConfigStores#open}.
 */
public interface ValidatingConfigStore extends ConfigStoreCache {
  /** Where the store reads from, e.g. {@code fs:///etc/istio/config} or {@code k8s://}. */
  String url();

  /**
   * Every object and every rejected document or file, sorted: the served ones {@link
   * ConfigObjectStatus.State#VALID}, the rest with their errors.
   */
  List<ConfigObjectStatus> statuses();
}
