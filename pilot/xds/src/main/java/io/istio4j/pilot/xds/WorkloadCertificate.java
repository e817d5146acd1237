package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * A workload identity's key and certificate as Pilot serves them over SDS: the secret
 * {@code default} (chain and key) and the secret {@code ROOTCA} (the root).
 *
 * @param spiffeId {@code spiffe://<trust-domain>/ns/<ns>/sa/<sa>}
 * @param certChainPem the leaf first, then intermediates
 * @param privateKeyPem the leaf's key (PKCS#8 PEM)
 * @param rootCertPem the CA's root
 * @param notAfter when the leaf expires
 */
public record WorkloadCertificate(String spiffeId, String certChainPem, String privateKeyPem, String rootCertPem,
    Instant notAfter) {
  public WorkloadCertificate {
    requireNonNull(spiffeId, "spiffeId");
    requireNonNull(certChainPem, "certChainPem");
    requireNonNull(privateKeyPem, "privateKeyPem");
    requireNonNull(rootCertPem, "rootCertPem");
    requireNonNull(notAfter, "notAfter");
  }

  @Override
  public String toString() {
    // Never the key.
    return "WorkloadCertificate[" + spiffeId + ", notAfter=" + notAfter + "]";
  }
}
