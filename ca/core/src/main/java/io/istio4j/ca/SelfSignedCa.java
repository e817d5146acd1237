package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A self-signed CA: the root is generated on first start, stored, and loaded from the storage on
 * every later start, so workloads keep trusting the same root across restarts.
 */
public final class SelfSignedCa {

  private static final Logger log = LoggerFactory.getLogger(SelfSignedCa.class);

  /**
   * How a new root is made.
   *
   * @param org the root's Subject O= ({@code --self-signed-ca-org})
   * @param ttl the root's lifetime ({@code --ca-cert-ttl})
   * @param keyAlgorithm the root key's type
   * @param trustDomain the trust domain, written as the root's SPIFFE ID (a URI SAN with no path)
   */
  public record RootOptions(String org, Duration ttl, KeyAlgorithm keyAlgorithm, String trustDomain) {
    /** All required. */
    public RootOptions {
      requireNonNull(org, "org");
      requireNonNull(ttl, "ttl");
      requireNonNull(keyAlgorithm, "keyAlgorithm");
      SpiffeId.checkTrustDomain(trustDomain);
    }
  }

  private SelfSignedCa() {}

  /**
   * The stored root, or a new one generated and stored when the storage holds none.
   *
   * @throws IOException when the storage cannot be read or written, or holds a broken root (named)
   */
  public static CaKeyCertBundle loadOrCreate(CaStorage storage, RootOptions options) throws IOException {
    Optional<CaStorage.StoredCa> stored = storage.load();
    if (stored.isPresent()) {
      CaKeyCertBundle bundle = parse(stored.get(), storage.describe());
      log.info("Loaded the self-signed CA root from {}: {} (expires {})", storage.describe(),
          bundle.root().getSubjectX500Principal(), bundle.root().getNotAfter().toInstant());
      return bundle;
    }
    CaStorage.StoredCa generated = generate(options);
    CaStorage.StoredCa kept = storage.store(generated);
    CaKeyCertBundle bundle = parse(kept, storage.describe());
    log.info("Generated a self-signed CA root and stored it in {}: {} (expires {})", storage.describe(),
        bundle.root().getSubjectX500Principal(), bundle.root().getNotAfter().toInstant());
    return bundle;
  }

  /**
   * The stored root; never generates one (for {@code istio-ca issue}, which must sign with the root
   * the running CA uses).
   *
   * @throws IOException when the storage holds none, naming it
   */
  public static CaKeyCertBundle load(CaStorage storage) throws IOException {
    CaStorage.StoredCa stored = storage.load().orElseThrow(() -> new IOException(storage.describe()
        + " holds no CA root yet (start the CA once with 'istio-ca serve' to create it, or use a plug-in CA)"));
    return parse(stored, storage.describe());
  }

  /** A new root certificate and key, as PEM. */
  public static CaStorage.StoredCa generate(RootOptions options) {
    KeyPair pair = options.keyAlgorithm().generate();
    X509Certificate root = rootCertificate(pair, options);
    return new CaStorage.StoredCa(Pem.encode(root), Pem.encode(pair.getPrivate()));
  }

  static X509Certificate rootCertificate(KeyPair pair, RootOptions options) {
    Instant now = Instant.now();
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x40;
    X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, options.org());
    try {
      SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded());
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(subject.build(), new BigInteger(serial),
          Date.from(now.minus(CertificateAuthority.BACKDATE)), Date.from(now.plus(options.ttl())), subject.build(), spki);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, new BcX509ExtensionUtils().createSubjectKeyIdentifier(spki));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
          new GeneralName(GeneralName.uniformResourceIdentifier, SpiffeId.PREFIX + options.trustDomain())));
      PrivateKey key = pair.getPrivate();
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithm(key)).build(key)));
    } catch (IOException | OperatorCreationException | CertificateException e) {
      throw new IllegalStateException("cannot build a self-signed root: " + e.getMessage(), e);
    }
  }

  private static CaKeyCertBundle parse(CaStorage.StoredCa stored, String source) throws IOException {
    try {
      X509Certificate cert = Pem.readCertificate(stored.certPem(), source + " ca-cert.pem");
      PrivateKey key = Pem.readPrivateKey(stored.keyPem(), source + " ca-key.pem");
      CaChains.checkKeyMatches(cert, key, source + " ca-key.pem");
      CaChains.checkCa(cert, source + " ca-cert.pem");
      CaChains.checkSelfSigned(cert, source + " ca-cert.pem");
      return CaKeyCertBundle.selfSigned(cert, key);
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
  }
}
