package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A leaf the CA signed, with what a workload needs to present and verify it.
 *
 * @param leaf the issued certificate
 * @param chain the CA chain after the leaf, not including the root (empty for a self-signed CA)
 * @param root the root
 */
public record IssuedCertificate(X509Certificate leaf, List<X509Certificate> chain, X509Certificate root) {

  /** Copies the chain. */
  public IssuedCertificate {
    requireNonNull(leaf, "leaf");
    chain = List.copyOf(requireNonNull(chain, "chain"));
    requireNonNull(root, "root");
  }

  /** The leaf and chain as PEM ({@code cert-chain.pem}; what 0.2's HandleCSR returned). */
  public String certChainPem() {
    StringBuilder sb = new StringBuilder(Pem.encode(leaf));
    for (X509Certificate c : chain) {
      sb.append(Pem.encode(c));
    }
    return sb.toString();
  }

  /** Leaf, chain and root, one PEM certificate each (CreateCertificate's {@code cert_chain}). */
  public List<String> fullChainPems() {
    List<String> out = new ArrayList<>(chain.size() + 2);
    out.add(Pem.encode(leaf));
    for (X509Certificate c : chain) {
      out.add(Pem.encode(c));
    }
    out.add(Pem.encode(root));
    return out;
  }

  /** The root as PEM ({@code root-cert.pem}). */
  public String rootPem() {
    return Pem.encode(root);
  }
}
