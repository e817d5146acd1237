package io.istio4j.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;

/** The key types the CA generates: ECDSA P-256 (the default) and RSA 2048. */
public enum KeyAlgorithm {
  /** ECDSA on NIST P-256, signed with SHA-256. */
  ECDSA_P256,
  /** RSA with a 2048-bit modulus, signed with SHA-256 (PKCS#1 v1.5). */
  RSA_2048;

  /** Generates a fresh key pair. */
  public KeyPair generate() {
    try {
      if (this == ECDSA_P256) {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
      }
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a " + this + " key", e);
    }
  }

  /** The JCA signature algorithm a CA holding {@code key} signs with. */
  public static String signatureAlgorithm(PrivateKey key) {
    if (key instanceof ECKey) {
      return "SHA256withECDSA";
    }
    if (key instanceof RSAKey) {
      return "SHA256withRSA";
    }
    throw new IllegalArgumentException("CA key algorithm " + key.getAlgorithm() + " (expected: EC or RSA)");
  }

  /** Parses {@code ECDSA_P256}, {@code RSA_2048} or the short forms {@code ec}, {@code rsa}. */
  public static KeyAlgorithm parse(String s) {
    switch (s.trim().toLowerCase(Locale.ROOT)) {
      case "ecdsa_p256":
      case "ecdsa-p256":
      case "ec":
      case "ecdsa":
        return ECDSA_P256;
      case "rsa_2048":
      case "rsa-2048":
      case "rsa":
        return RSA_2048;
      default:
        throw new IllegalArgumentException("key algorithm '" + s + "' (expected: ECDSA_P256 or RSA_2048)");
    }
  }
}
