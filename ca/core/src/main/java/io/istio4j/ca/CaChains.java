package io.istio4j.ca;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;

/** Checks on CA certificates, each failure naming the file (or Secret key) that breaks the chain. */
final class CaChains {

  private CaChains() {}

  static void checkKeyMatches(X509Certificate cert, PrivateKey key, String keySource) {
    byte[] probe = "istio4j-ca key check".getBytes(UTF_8);
    try {
      String algorithm = KeyAlgorithm.signatureAlgorithm(key);
      Signature s = Signature.getInstance(algorithm);
      s.initSign(key);
      s.update(probe);
      byte[] sig = s.sign();
      Signature v = Signature.getInstance(algorithm);
      v.initVerify(cert.getPublicKey());
      v.update(probe);
      if (!v.verify(sig)) {
        throw new IllegalArgumentException(keySource + ": key does not match the certificate "
            + cert.getSubjectX500Principal());
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(keySource + ": key does not match the certificate "
          + cert.getSubjectX500Principal() + " (" + e.getMessage() + ")", e);
    }
  }

  static void checkCa(X509Certificate cert, String source) {
    if (cert.getBasicConstraints() < 0) {
      throw new IllegalArgumentException(source + ": certificate " + cert.getSubjectX500Principal()
          + " is not a CA (expected: basic constraints cA=true)");
    }
    boolean[] usage = cert.getKeyUsage();
    if (usage != null && !usage[5]) {
      throw new IllegalArgumentException(source + ": certificate " + cert.getSubjectX500Principal()
          + " may not sign certificates (expected: key usage keyCertSign)");
    }
    try {
      cert.checkValidity();
    } catch (CertificateExpiredException e) {
      throw new IllegalArgumentException(source + ": certificate " + cert.getSubjectX500Principal() + " expired on "
          + cert.getNotAfter().toInstant(), e);
    } catch (CertificateNotYetValidException e) {
      throw new IllegalArgumentException(source + ": certificate " + cert.getSubjectX500Principal()
          + " is not valid before " + cert.getNotBefore().toInstant(), e);
    }
  }

  static void checkSelfSigned(X509Certificate cert, String source) {
    if (!cert.getIssuerX500Principal().equals(cert.getSubjectX500Principal()) || !signedBy(cert, cert)) {
      throw new IllegalArgumentException(source + ": certificate " + cert.getSubjectX500Principal()
          + " is not self-signed (expected: a root certificate)");
    }
  }

  static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
    if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
      return false;
    }
    try {
      cert.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
