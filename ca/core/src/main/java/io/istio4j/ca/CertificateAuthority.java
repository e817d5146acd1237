package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.bc.BcX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jspecify.annotations.Nullable;

/**
 * Signs workload certificates that conform to the X.509-SVID standard: an empty Subject with a
 * critical SAN extension holding exactly one URI SAN (the SPIFFE ID) and optionally DNS names;
 * {@code cA=false}; a critical key usage of digitalSignature (plus keyEncipherment for an RSA
 * key); extended key usage serverAuth and clientAuth. The lifetime is the requested TTL (the default
 * when none is asked for), capped by the maximum and by the signing certificate's own expiry.
 *
 * <p>Thread-safe; signing is the CA's hot path and does no I/O.
 *
 * <pre>{@code
 * CertificateAuthority ca = new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(24), Duration.ofDays(90));
 * IssuedCertificate cert = ca.sign(CertificateSigningRequest.parse(pem), Duration.ZERO);
 * }</pre>
 */
public final class CertificateAuthority {

  /** The leaf is valid from up to a minute in the past, so a verifier whose clock is slightly behind accepts it. */
  static final Duration BACKDATE = Duration.ofMinutes(1);
  private static final X500Name EMPTY_SUBJECT = new X500Name(new RDN[0]);

  private final CaKeyCertBundle bundle;
  private final String trustDomain;
  private final Duration defaultTtl;
  private final Duration maxTtl;
  private final X500Name issuer;
  private final Extension authorityKeyId;
  private final String signatureAlgorithm;
  private final @Nullable Provider signingProvider;
  private final PrivateKey signingKey;
  private final SecureRandom random = new SecureRandom();
  private final BcX509ExtensionUtils extensionUtils = new BcX509ExtensionUtils();
  private final ThreadLocal<CertificateFactory> certificateFactory = ThreadLocal.withInitial(() -> {
    try {
      return CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException(e);
    }
  });

  /**
   * A CA signing with {@code bundle}.
   *
   * @param trustDomain the SPIFFE trust domain of the identities it issues
   * @param defaultTtl the lifetime of a leaf when the request names none
   * @param maxTtl the longest lifetime granted
   */
  public CertificateAuthority(CaKeyCertBundle bundle, String trustDomain, Duration defaultTtl, Duration maxTtl) {
    this.bundle = requireNonNull(bundle, "bundle");
    this.trustDomain = SpiffeId.checkTrustDomain(trustDomain);
    requireNonNull(defaultTtl, "defaultTtl");
    requireNonNull(maxTtl, "maxTtl");
    if (defaultTtl.isNegative() || defaultTtl.isZero()) {
      throw new IllegalArgumentException("workload cert TTL: " + Durations.format(defaultTtl) + " (expected: positive)");
    }
    if (maxTtl.compareTo(defaultTtl) < 0) {
      throw new IllegalArgumentException("max workload cert TTL " + Durations.format(maxTtl)
          + " is shorter than the workload cert TTL " + Durations.format(defaultTtl) + " (expected: max >= default)");
    }
    this.defaultTtl = defaultTtl;
    this.maxTtl = maxTtl;
    try {
      X509CertificateHolder signing = new X509CertificateHolder(bundle.signingCert().getEncoded());
      this.issuer = signing.getSubject();
      SubjectPublicKeyInfo caKey = signing.getSubjectPublicKeyInfo();
      this.authorityKeyId = new Extension(Extension.authorityKeyIdentifier, false,
          extensionUtils.createAuthorityKeyIdentifier(caKey).getEncoded());
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException("signing certificate " + bundle.signingCert().getSubjectX500Principal()
          + ": cannot be parsed (" + e.getMessage() + ")", e);
    }
    this.signatureAlgorithm = KeyAlgorithm.signatureAlgorithm(bundle.signingKey());
    this.signingProvider = Providers.forKey(bundle.signingKey());
    this.signingKey = Providers.forSigning(bundle.signingKey());
  }

  /** The signing material. */
  public CaKeyCertBundle bundle() {
    return bundle;
  }

  /** The trust domain of the identities this CA issues. */
  public String trustDomain() {
    return trustDomain;
  }

  /** The default leaf lifetime. */
  public Duration defaultTtl() {
    return defaultTtl;
  }

  /** The longest leaf lifetime. */
  public Duration maxTtl() {
    return maxTtl;
  }

  /**
   * Signs a checked CSR. Authorization (may this caller hold these SANs?) is the caller's job.
   *
   * @param requestedTtl zero or negative for the default
   */
  public IssuedCertificate sign(CertificateSigningRequest csr, Duration requestedTtl) {
    return sign(csr.publicKey(), csr.sans(), requestedTtl);
  }

  /** Generates a key and a certificate for a SPIFFE ID. */
  public IssuedIdentity issue(SpiffeId id, KeyAlgorithm algorithm, Duration requestedTtl) {
    if (!id.isWorkload()) {
      throw new IllegalArgumentException("SPIFFE ID '" + id + "' has no path (expected: a workload ID)");
    }
    KeyPair pair = algorithm.generate();
    return new IssuedIdentity(pair.getPrivate(), sign(pair.getPublic(), List.of(SubjectAltName.uri(id)), requestedTtl));
  }

  /** Generates a key and a TLS server certificate for host names (the CA's own gRPC port). */
  public IssuedIdentity issueServing(List<String> hostnames, KeyAlgorithm algorithm, Duration ttl) {
    if (hostnames.isEmpty()) {
      throw new IllegalArgumentException("serving certificate: no host name (expected: at least one)");
    }
    KeyPair pair = algorithm.generate();
    return new IssuedIdentity(pair.getPrivate(),
        sign(pair.getPublic(), hostnames.stream().map(SubjectAltName::dns).toList(), ttl));
  }

  /** The lifetime granted for a requested one: the default for zero, never above the maximum. */
  public Duration grantedTtl(Duration requested) {
    if (requested == null || requested.isZero() || requested.isNegative()) {
      return defaultTtl;
    }
    return requested.compareTo(maxTtl) > 0 ? maxTtl : requested;
  }

  /**
   * Signs {@code key} for {@code sans}, which must hold at most one URI SAN.
   *
   * @param requestedTtl zero or negative for the default
   */
  public IssuedCertificate sign(PublicKey key, List<SubjectAltName> sans, Duration requestedTtl) {
    requireNonNull(key, "key");
    if (sans.isEmpty()) {
      throw new IllegalArgumentException("certificate with no SAN (expected: a URI SAN or DNS names)");
    }
    GeneralName[] names = new GeneralName[sans.size()];
    int uris = 0;
    for (int i = 0; i < names.length; i++) {
      SubjectAltName san = sans.get(i);
      if (san.type() == SubjectAltName.Type.URI) {
        uris++;
        names[i] = new GeneralName(GeneralName.uniformResourceIdentifier, san.value());
      } else {
        names[i] = new GeneralName(GeneralName.dNSName, san.value());
      }
    }
    if (uris > 1) {
      throw new IllegalArgumentException("certificate with " + uris + " URI SANs (expected: at most one)");
    }
    Instant now = Instant.now();
    Duration ttl = grantedTtl(requestedTtl);
    // Backdated for verifiers whose clocks lag, but by a tenth of the lifetime at most, so a
    // short-lived certificate's half-life (when holders renew) still lies ahead.
    Duration backdate = ttl.dividedBy(10).compareTo(BACKDATE) < 0 ? ttl.dividedBy(10) : BACKDATE;
    Instant notBefore = now.minus(backdate);
    Instant caNotBefore = bundle.signingCert().getNotBefore().toInstant();
    if (notBefore.isBefore(caNotBefore)) {
      notBefore = caNotBefore;
    }
    Instant notAfter = now.plus(ttl);
    Instant caNotAfter = bundle.signingCert().getNotAfter().toInstant();
    if (notAfter.isAfter(caNotAfter)) {
      notAfter = caNotAfter;
    }
    byte[] serial = new byte[16];
    random.nextBytes(serial);
    serial[0] &= 0x7f;
    serial[0] |= 0x40; // positive and a full 16 bytes, so DER never drops a leading zero
    try {
      SubjectPublicKeyInfo spki = SubjectPublicKeyInfo.getInstance(key.getEncoded());
      X509v3CertificateBuilder b = new X509v3CertificateBuilder(issuer, new BigInteger(serial), Date.from(notBefore),
          Date.from(notAfter), EMPTY_SUBJECT, spki);
      // The Subject is empty, so RFC 5280 and the SVID standard require the SAN extension critical.
      b.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      int usage = KeyUsage.digitalSignature | (key instanceof RSAPublicKey ? KeyUsage.keyEncipherment : 0);
      b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.subjectKeyIdentifier, false, extensionUtils.createSubjectKeyIdentifier(spki));
      b.addExtension(authorityKeyId);
      JcaContentSignerBuilder signerBuilder = new JcaContentSignerBuilder(signatureAlgorithm);
      if (signingProvider != null) {
        signerBuilder.setProvider(signingProvider);
      }
      ContentSigner signer = signerBuilder.build(signingKey);
      byte[] der = b.build(signer).getEncoded();
      X509Certificate leaf = (X509Certificate) certificateFactory.get().generateCertificate(new ByteArrayInputStream(der));
      return new IssuedCertificate(leaf, bundle.chain(), bundle.root());
    } catch (IOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IllegalStateException("signing a certificate for " + sans + " failed: " + e.getMessage(), e);
    }
  }
}
