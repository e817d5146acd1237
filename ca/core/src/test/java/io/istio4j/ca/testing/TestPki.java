package io.istio4j.ca.testing;

import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.SubjectAltName;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Certificates and CSRs for tests: CA hierarchies an operator would bring, CSRs a workload would send. */
public final class TestPki {

  private TestPki() {}

  /** A certificate and its key. */
  public record Ca(X509Certificate cert, PrivateKey key) {}

  /** A self-signed root CA. */
  public static Ca root(String cn, KeyAlgorithm algorithm) {
    KeyPair pair = algorithm.generate();
    return new Ca(caCert(new X500Name("CN=" + cn), pair, new X500Name("CN=" + cn), pair.getPrivate(), Duration.ofDays(30)),
        pair.getPrivate());
  }

  /** An intermediate CA signed by {@code issuer}. */
  public static Ca intermediate(Ca issuer, String cn, KeyAlgorithm algorithm) {
    KeyPair pair = algorithm.generate();
    X500Name issuerName = X500Name.getInstance(issuer.cert().getSubjectX500Principal().getEncoded());
    return new Ca(caCert(new X500Name("CN=" + cn), pair, issuerName, issuer.key(), Duration.ofDays(20)), pair.getPrivate());
  }

  private static X509Certificate caCert(X500Name subject, KeyPair pair, X500Name issuer, PrivateKey issuerKey,
      Duration ttl) {
    try {
      Instant now = Instant.now();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
          BigInteger.valueOf(ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE)), Date.from(now.minusSeconds(3600)),
          Date.from(now.plus(ttl)), subject, pair.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      return new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithm(issuerKey)).build(issuerKey)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PEM CSR for {@code pair} asking for {@code sans}. */
  public static String csr(KeyPair pair, List<SubjectAltName> sans) {
    try {
      JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=workload"),
          pair.getPublic());
      if (!sans.isEmpty()) {
        GeneralName[] names = sans.stream()
            .map(s -> new GeneralName(s.type() == SubjectAltName.Type.URI ? GeneralName.uniformResourceIdentifier
                : GeneralName.dNSName, s.value()))
            .toArray(GeneralName[]::new);
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
      }
      PKCS10CertificationRequest req = b.build(
          new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithm(pair.getPrivate())).build(pair.getPrivate()));
      StringWriter w = new StringWriter();
      try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
        pw.writeObject(req);
      }
      return w.toString();
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }
}
