package io.istio4j.pilot.model;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Pilot's config: RouteRules, DestinationPolicies, EgressRules. Objects are keyed by kind, namespace
 * and name; writes use optimistic concurrency on the resource version.
 */
public interface ConfigStore {
  /** List every namespace. */
  String NAMESPACE_ALL = "";

  /** The kinds this store holds. */
  Set<ConfigKind> kinds();

  /** The object, if present. */
  Optional<Config> get(ConfigKind kind, String name, String namespace);

  /** Every object of a kind in a namespace ({@link #NAMESPACE_ALL} for all), sorted by key. */
  List<Config> list(ConfigKind kind, String namespace);

  /**
   * Stores a new object and returns its resource version.
   *
   * @throws ConfigStoreException if the object exists or is invalid, or the store is read-only
   */
  String create(Config config);

  /**
   * Replaces an object whose resource version matches and returns the new version.
   *
   * @throws ConfigStoreException if it does not exist, the version is old, or it is invalid
   */
  String update(Config config);

  /**
   * Deletes an object.
   *
   * @throws ConfigStoreException if it does not exist
   */
  void delete(ConfigKind kind, String name, String namespace);

  /**
   * The TLS certificate an IngressRule's {@code tls_secret} names ({@code <name>.<namespace>}, see
   * {@link TlsSecret#reference()}), when this store watches Secrets and holds a valid one by that
   * name. Stores that read Ingress objects serve the Secrets they name; a change of such a Secret is
   * reported as an UPDATE of the IngressRules that use it.
   */
  default Optional<TlsSecret> tlsSecret(String reference) {
    return Optional.empty();
  }
}
