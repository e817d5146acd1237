package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.StringReader;
import java.security.KeyPair;
import java.security.Provider;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A parsed and checked PKCS#10 CSR: its signature verifies (the caller holds the key), the key is
 * ECDSA P-256/P-384 or RSA 2048-8192, and the SANs are exactly one SPIFFE ID URI (the leaf SVID's
 * identity) plus optionally DNS names. The CSR's Subject and other extensions are ignored: the CA
 * decides what the certificate says.
 *
 * @param publicKey the key to certify
 * @param sans every SAN requested, in CSR order
 * @param spiffeId the one URI SAN
 */
public record CertificateSigningRequest(PublicKey publicKey, List<SubjectAltName> sans, SpiffeId spiffeId) {

  /** CSRs larger than this are refused before parsing (a P-256 CSR is under 1 KiB). */
  public static final int MAX_PEM_BYTES = 64 * 1024;

  /** Copies the SANs. */
  public CertificateSigningRequest {
    requireNonNull(publicKey, "publicKey");
    sans = List.copyOf(requireNonNull(sans, "sans"));
    requireNonNull(spiffeId, "spiffeId");
  }

  /**
   * Parses and checks a PEM CSR.
   *
   * @throws InvalidCsrException naming what is wrong (malformed, bad signature, weak key, no SAN,
   *     a malformed SAN, not exactly one URI SAN)
   */
  public static CertificateSigningRequest parse(String pem) throws InvalidCsrException {
    requireNonNull(pem, "pem");
    if (pem.length() > MAX_PEM_BYTES) {
      throw new InvalidCsrException("CSR is " + pem.length() + " bytes (expected: at most " + MAX_PEM_BYTES + ")");
    }
    PKCS10CertificationRequest csr;
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      if (!(o instanceof PKCS10CertificationRequest req)) {
        throw new InvalidCsrException("CSR: " + (o == null ? "no PEM block" : "PEM block " + o.getClass().getSimpleName())
            + " (expected: one PEM 'CERTIFICATE REQUEST')");
      }
      csr = req;
    } catch (IOException | RuntimeException e) {
      throw new InvalidCsrException("CSR: not a valid PEM certificate request (" + e.getMessage() + ")", e);
    }
    PublicKey key;
    try {
      // BouncyCastle's key objects keep the named curve's precomputed tables (see Providers).
      key = new JcaPKCS10CertificationRequest(csr).setProvider(Providers.bouncyCastle()).getPublicKey();
    } catch (Exception e) {
      throw new InvalidCsrException("CSR: unsupported or malformed public key (" + e.getMessage() + ")", e);
    }
    checkKey(key);
    try {
      JcaContentVerifierProviderBuilder verifier = new JcaContentVerifierProviderBuilder();
      Provider provider = Providers.forKey(key);
      if (provider != null) {
        verifier.setProvider(provider);
      }
      if (!csr.isSignatureValid(verifier.build(key))) {
        throw new InvalidCsrException("CSR: signature does not verify with the CSR's own public key");
      }
    } catch (InvalidCsrException e) {
      throw e;
    } catch (Exception e) {
      throw new InvalidCsrException("CSR: cannot verify signature (" + e.getMessage() + ")", e);
    }
    List<SubjectAltName> sans = sans(csr);
    if (sans.isEmpty()) {
      throw new InvalidCsrException("CSR has no subject alternative name (expected: exactly one URI SAN, a SPIFFE ID)");
    }
    SpiffeId id = null;
    for (SubjectAltName san : sans) {
      if (san.type() == SubjectAltName.Type.URI) {
        if (id != null) {
          throw new InvalidCsrException("CSR has more than one URI SAN ('" + id + "', '" + san.value()
              + "'; expected: exactly one, an X.509-SVID names one SPIFFE ID)");
        }
        try {
          id = SpiffeId.parse(san.value());
        } catch (IllegalArgumentException e) {
          throw new InvalidCsrException("CSR URI SAN is malformed: " + e.getMessage(), e);
        }
        if (!id.isWorkload()) {
          throw new InvalidCsrException("CSR URI SAN '" + id + "' has no path (expected: a workload SPIFFE ID)");
        }
      } else if (!isHostname(san.value())) {
        throw new InvalidCsrException("CSR DNS SAN '" + truncate(san.value()) + "' is not a valid host name");
      }
    }
    if (id == null) {
      throw new InvalidCsrException("CSR has no URI SAN (expected: exactly one, a SPIFFE ID)");
    }
    return new CertificateSigningRequest(key, sans, id);
  }

  /**
   * A PEM CSR for {@code pair} asking for {@code sans}, with an empty Subject (the SAN extension is
   * then critical), as a node agent sends it.
   */
  public static String create(KeyPair pair, List<SubjectAltName> sans) {
    GeneralName[] names = new GeneralName[sans.size()];
    for (int i = 0; i < names.length; i++) {
      SubjectAltName san = sans.get(i);
      names[i] = new GeneralName(san.type() == SubjectAltName.Type.URI ? GeneralName.uniformResourceIdentifier
          : GeneralName.dNSName, san.value());
    }
    try {
      ExtensionsGenerator extensions = new ExtensionsGenerator();
      extensions.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names));
      PKCS10CertificationRequest csr = new JcaPKCS10CertificationRequestBuilder(new X500Name(new RDN[0]),
          pair.getPublic())
          .addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate())
          .build(new JcaContentSignerBuilder(KeyAlgorithm.signatureAlgorithm(pair.getPrivate())).build(pair.getPrivate()));
      return Pem.encodeDer("CERTIFICATE REQUEST", csr.getEncoded());
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException("cannot build a CSR for " + sans + ": " + e.getMessage(), e);
    }
  }

  private static void checkKey(PublicKey key) throws InvalidCsrException {
    if (key instanceof RSAPublicKey rsa) {
      int bits = rsa.getModulus().bitLength();
      if (bits < 2048 || bits > 8192) {
        throw new InvalidCsrException("CSR: RSA key of " + bits + " bits (expected: 2048 to 8192)");
      }
    } else if (key instanceof ECPublicKey ec) {
      int bits = ec.getParams().getCurve().getField().getFieldSize();
      if (bits != 256 && bits != 384) {
        throw new InvalidCsrException("CSR: EC key on a " + bits + "-bit curve (expected: P-256 or P-384)");
      }
    } else {
      throw new InvalidCsrException("CSR: key algorithm " + key.getAlgorithm() + " (expected: EC or RSA)");
    }
  }

  private static List<SubjectAltName> sans(PKCS10CertificationRequest csr) throws InvalidCsrException {
    List<SubjectAltName> out = new ArrayList<>();
    try {
      for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        for (ASN1Encodable value : attribute.getAttributeValues()) {
          Extensions extensions = Extensions.getInstance(value);
          GeneralNames names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
          if (names == null) {
            continue;
          }
          for (GeneralName name : names.getNames()) {
            switch (name.getTagNo()) {
              case GeneralName.uniformResourceIdentifier ->
                  out.add(new SubjectAltName(SubjectAltName.Type.URI, name.getName().toString()));
              case GeneralName.dNSName -> out.add(new SubjectAltName(SubjectAltName.Type.DNS, name.getName().toString()));
              default -> throw new InvalidCsrException("CSR SAN of type " + typeName(name.getTagNo())
                  + " (expected: URI, or DNS names besides one URI)");
            }
          }
        }
      }
    } catch (InvalidCsrException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new InvalidCsrException("CSR: malformed extension request (" + e.getMessage() + ")", e);
    }
    return out;
  }

  private static String typeName(int tag) {
    return switch (tag) {
      case GeneralName.otherName -> "otherName";
      case GeneralName.rfc822Name -> "email";
      case GeneralName.x400Address -> "x400Address";
      case GeneralName.directoryName -> "directoryName";
      case GeneralName.ediPartyName -> "ediPartyName";
      case GeneralName.iPAddress -> "IP address";
      case GeneralName.registeredID -> "registeredID";
      default -> "tag " + tag;
    };
  }

  static boolean isHostname(String s) {
    if (s.isEmpty() || s.length() > 253) {
      return false;
    }
    for (String label : s.split("\\.", -1)) {
      if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) {
        return false;
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
          return false;
        }
      }
    }
    return true;
  }

  private static String truncate(String s) {
    return s.length() <= 100 ? s : s.substring(0, 100) + "...";
  }
}
