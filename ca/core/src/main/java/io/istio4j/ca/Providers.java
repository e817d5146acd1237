package io.istio4j.ca;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.interfaces.ECKey;
import java.security.spec.PKCS8EncodedKeySpec;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.jspecify.annotations.Nullable;

/**
 * Which JCA provider signs and verifies: BouncyCastle for ECDSA (on JDK 17 its P-256 signing and
 * verification measured about seven times faster than SunEC's; see docs/performance.md, CA), the
 * JDK's own for RSA. The BouncyCastle provider is used by reference, never installed globally.
 */
final class Providers {

  private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

  private Providers() {}

  /** The provider for signatures with {@code key}, or null for the JDK's default. */
  static @Nullable Provider forKey(Key key) {
    return key instanceof ECKey ? BOUNCY_CASTLE : null;
  }

  /** The BouncyCastle provider. */
  static Provider bouncyCastle() {
    return BOUNCY_CASTLE;
  }

  /**
   * An EC private key as BouncyCastle's own key object. A JDK key is converted to BouncyCastle's
   * parameters on every signature, with a fresh curve object each time, which throws away the
   * precomputed multiples of the generator and makes each signature several times slower.
   */
  static PrivateKey forSigning(PrivateKey key) {
    if (!(key instanceof ECKey)) {
      return key;
    }
    try {
      return KeyFactory.getInstance("EC", BOUNCY_CASTLE).generatePrivate(new PKCS8EncodedKeySpec(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("EC key cannot be used for signing: " + e.getMessage(), e);
    }
  }
}
