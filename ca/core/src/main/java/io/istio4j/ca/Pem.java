package io.istio4j.ca;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * PEM encoding and decoding of certificates and private keys. Keys are written as PKCS#8
 * ({@code PRIVATE KEY}) and read in PKCS#8, PKCS#1 ({@code RSA PRIVATE KEY}, what Istio 0.2 wrote)
 * or SEC 1 ({@code EC PRIVATE KEY}).
 */
public final class Pem {

  private static final Base64.Encoder MIME = Base64.getMimeEncoder(64, new byte[] {'\n'});

  private Pem() {}

  /** One certificate as PEM, ending in a newline. */
  public static String encode(X509Certificate cert) {
    try {
      return encodeDer("CERTIFICATE", cert.getEncoded());
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot encode certificate " + cert.getSubjectX500Principal(), e);
    }
  }

  /** DER bytes as one PEM block of the given type, ending in a newline. */
  public static String encodeDer(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + MIME.encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  /** Certificates as concatenated PEM, in order. */
  public static String encode(List<X509Certificate> certs) {
    StringBuilder sb = new StringBuilder();
    for (X509Certificate c : certs) {
      sb.append(encode(c));
    }
    return sb.toString();
  }

  /** A private key as PKCS#8 PEM ({@code PRIVATE KEY}). */
  public static String encode(PrivateKey key) {
    return encodeDer("PRIVATE KEY", key.getEncoded());
  }

  /** An RSA private key as PKCS#1 PEM ({@code RSA PRIVATE KEY}), as Istio 0.2 wrote {@code ca-key.pem}. */
  public static String encodeTraditional(PrivateKey key) {
    if (!(key instanceof RSAPrivateKey)) {
      throw new IllegalArgumentException("PKCS#1 encoding of a " + key.getAlgorithm() + " key (expected: RSA)");
    }
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
      pw.writeObject(key);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode key", e);
    }
    return w.toString();
  }

  /**
   * Every certificate in a PEM text.
   *
   * @param source names the text in errors (a file name, a Secret key)
   * @throws IllegalArgumentException naming the source when it holds no certificate or a broken one
   */
  public static List<X509Certificate> readCertificates(String pem, String source) {
    List<X509Certificate> certs = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      Object o;
      while ((o = parser.readObject()) != null) {
        if (o instanceof X509CertificateHolder holder) {
          certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(holder.getEncoded())));
        } else {
          throw new IllegalArgumentException(source + ": PEM block " + (certs.size() + 1) + " is "
              + o.getClass().getSimpleName() + " (expected: CERTIFICATE)");
        }
      }
    } catch (IOException | CertificateException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith(source)) {
        throw iae;
      }
      throw new IllegalArgumentException(source + ": not a valid PEM certificate (" + e.getMessage() + ")", e);
    }
    if (certs.isEmpty()) {
      throw new IllegalArgumentException(source + ": no PEM certificate found");
    }
    return certs;
  }

  /** The one certificate of a PEM text; more or none is an error naming the source. */
  public static X509Certificate readCertificate(String pem, String source) {
    List<X509Certificate> certs = readCertificates(pem, source);
    if (certs.size() != 1) {
      throw new IllegalArgumentException(source + ": " + certs.size() + " certificates (expected: exactly 1)");
    }
    return certs.get(0);
  }

  /**
   * The private key of a PEM text (PKCS#8, PKCS#1 or SEC 1; not encrypted).
   *
   * @throws IllegalArgumentException naming the source when it holds no usable key
   */
  public static PrivateKey readPrivateKey(String pem, String source) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new IllegalArgumentException(source + ": " + (o == null ? "no PEM block" : o.getClass().getSimpleName())
          + " (expected: an unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith(source)) {
        throw iae;
      }
      throw new IllegalArgumentException(source + ": not a valid PEM private key (" + e.getMessage() + ")", e);
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }
}
