package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

/**
 * A certificate and its private key for terminating TLS, as a Kubernetes {@code kubernetes.io/tls}
 * Secret holds them ({@code tls.crt}, {@code tls.key}): the ingress proxy serves hosts with it.
 *
 * <pre>{@code
 * TlsSecret s = new TlsSecret("default", "bookinfo-tls", "7", certPem, keyPem);
 * }</pre>
 *
 * @param namespace the Secret's namespace
 * @param name the Secret's name
 * @param version changes whenever the content does (the Secret's resourceVersion, or a counter)
 * @param certificateChain PEM certificates, the leaf first
 * @param privateKey the PEM private key of the leaf
 */
public record TlsSecret(String namespace, String name, String version, String certificateChain, String privateKey) {

  public TlsSecret {
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    requireNonNull(version, "version");
    requireNonNull(certificateChain, "certificateChain");
    requireNonNull(privateKey, "privateKey");
  }

  /**
   * How an IngressRule's {@code tls_secret} names a Secret: {@code <name>.<namespace>}, as upstream
   * 0.2 wrote it (a namespace is a DNS label, so the last dot splits).
   */
  public String reference() {
    return reference(namespace, name);
  }

  /** {@code <name>.<namespace>}. */
  public static String reference(String namespace, String name) {
    return name + "." + namespace;
  }

  /** Never prints the private key (secrets end up in logs through toString otherwise). */
  @Override
  public String toString() {
    return "TlsSecret[" + namespace + "/" + name + "@" + version + "]";
  }
}
