package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * What the CA signs with: the signing certificate and key, the intermediates between the signing
 * certificate and the root (empty when the signing certificate is the root), and the root that
 * workloads trust.
 *
 * @param signingCert the certificate whose key signs leaves
 * @param signingKey its private key
 * @param chain the signing certificate followed by any further intermediates up to (not including)
 *     the root; empty when the signing certificate is the root
 * @param root the trust anchor distributed to workloads
 */
public record CaKeyCertBundle(X509Certificate signingCert, PrivateKey signingKey, List<X509Certificate> chain,
    X509Certificate root) {

  /** Copies the chain. */
  public CaKeyCertBundle {
    requireNonNull(signingCert, "signingCert");
    requireNonNull(signingKey, "signingKey");
    chain = List.copyOf(requireNonNull(chain, "chain"));
    requireNonNull(root, "root");
  }

  /** A bundle whose signing certificate is the root (self-signed mode). */
  public static CaKeyCertBundle selfSigned(X509Certificate root, PrivateKey key) {
    return new CaKeyCertBundle(root, key, List.of(), root);
  }

  /** The chain followed by the root: what follows a leaf in a full chain. */
  public List<X509Certificate> chainWithRoot() {
    List<X509Certificate> all = new ArrayList<>(chain);
    all.add(root);
    return all;
  }
}
