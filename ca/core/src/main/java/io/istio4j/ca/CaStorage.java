package io.istio4j.ca;

import java.io.IOException;
import java.util.Optional;

/**
 * Where a self-signed CA keeps its root certificate and key, so that a restarted CA signs with the
 * same root: a directory ({@link DirectoryCaStorage}) or the Kubernetes Secret
 * {@code istio-ca-secret}.
 */
public interface CaStorage {

  /** The stored root and key, or empty on first start. */
  Optional<StoredCa> load() throws IOException;

  /**
   * Stores a newly generated root and key.
   *
   * @return what is stored afterwards: {@code ca}, or another CA's root when a concurrent first
   *     start won the race (the caller must then use the returned one)
   */
  StoredCa store(StoredCa ca) throws IOException;

  /** Names the storage in logs and errors. */
  String describe();

  /**
   * A stored CA root certificate and its key, as PEM.
   *
   * @param certPem {@code ca-cert.pem}
   * @param keyPem {@code ca-key.pem}
   */
  record StoredCa(String certPem, String keyPem) {}
}
