package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A plug-in ("bring your own") CA: the operator's signing certificate and key, the root that
 * workloads trust and the intermediates between them ({@code --signing-cert --signing-key
 * --root-cert --cert-chain}). The chain is verified at start; an error names the file that breaks it.
 *
 * <p>{@code --cert-chain} may hold the signing certificate itself (Istio's {@code cert-chain.pem}
 * convention) and the root; both are recognised and not repeated. It may be omitted when the
 * signing certificate is the root.
 */
public final class PluginCa {

  private PluginCa() {}

  /**
   * Loads and verifies signing certificate -> chain -> root.
   *
   * @throws IOException when a file cannot be read
   * @throws IllegalArgumentException naming the flag and file that breaks the chain
   */
  public static CaKeyCertBundle load(Path signingCert, Path signingKey, Path rootCert, @Nullable Path certChain)
      throws IOException {
    requireNonNull(signingCert, "signingCert");
    requireNonNull(signingKey, "signingKey");
    requireNonNull(rootCert, "rootCert");
    String certSource = "--signing-cert " + signingCert;
    String keySource = "--signing-key " + signingKey;
    String rootSource = "--root-cert " + rootCert;
    String chainSource = certChain == null ? null : "--cert-chain " + certChain;
    X509Certificate signing = Pem.readCertificates(SecureFiles.read(signingCert, "--signing-cert"), certSource).get(0);
    PrivateKey key = Pem.readPrivateKey(SecureFiles.read(signingKey, "--signing-key"), keySource);
    X509Certificate root = Pem.readCertificate(SecureFiles.read(rootCert, "--root-cert"), rootSource);
    List<X509Certificate> fileChain = chainSource == null ? List.of()
        : readChain(SecureFiles.read(certChain, "--cert-chain"), chainSource);

    CaChains.checkKeyMatches(signing, key, keySource);
    CaChains.checkCa(root, rootSource);
    CaChains.checkSelfSigned(root, rootSource);
    CaChains.checkCa(signing, certSource);

    List<X509Certificate> chain = new ArrayList<>();
    if (!signing.equals(root)) {
      chain.add(signing);
    }
    for (X509Certificate c : fileChain) {
      if (!c.equals(signing) && !c.equals(root)) {
        CaChains.checkCa(c, chainSource + " (certificate " + c.getSubjectX500Principal() + ")");
        chain.add(c);
      }
    }
    for (int i = 0; i < chain.size(); i++) {
      X509Certificate cert = chain.get(i);
      X509Certificate issuer = i + 1 < chain.size() ? chain.get(i + 1) : root;
      if (!CaChains.signedBy(cert, issuer)) {
        String who = i == 0 ? certSource : chainSource;
        String by = i + 1 < chain.size() ? "the next certificate in " + chainSource + " (" + issuer.getSubjectX500Principal() + ")"
            : rootSource + " (" + issuer.getSubjectX500Principal() + ")";
        String hint = i + 1 < chain.size() || chainSource != null ? ""
            : "; if an intermediate sits between them, give it with --cert-chain";
        throw new IllegalArgumentException(who + ": certificate " + cert.getSubjectX500Principal() + " (issuer "
            + cert.getIssuerX500Principal() + ") is not signed by " + by + hint);
      }
    }
    return new CaKeyCertBundle(signing, key, chain, root);
  }

  private static List<X509Certificate> readChain(String pem, String source) {
    if (pem.isBlank()) {
      return List.of();
    }
    return Pem.readCertificates(pem, source);
  }
}
