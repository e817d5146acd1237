package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;

/**
 * A key the CA generated together with its certificate (the secret controller's Secrets, the
 * bootstrap identities of {@code istio-ca issue}, the CA's own serving certificate).
 *
 * @param key the private key
 * @param certificate the certificate and chain
 */
public record IssuedIdentity(PrivateKey key, IssuedCertificate certificate) {
  /** Both required. */
  public IssuedIdentity {
    requireNonNull(key, "key");
    requireNonNull(certificate, "certificate");
  }

  /** The key as PKCS#8 PEM ({@code key.pem}). */
  public String keyPem() {
    return Pem.encode(key);
  }
}
