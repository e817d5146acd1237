package io.istio4j.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.ca.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {

  private static final SpiffeId ID = SpiffeId.forServiceAccount("cluster.local", "default", "sleep");

  @TempDir
  Path dir;

  private CertificateAuthority selfSigned(KeyAlgorithm algorithm) throws Exception {
    CaKeyCertBundle bundle = SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), algorithm, "cluster.local"));
    return new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(24), Duration.ofDays(7));
  }

  @Test
  void selfSignedRootIsPersistedAndTheSameAfterARestart() throws Exception {
    X509Certificate first = selfSigned(KeyAlgorithm.ECDSA_P256).bundle().root();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca-key.pem"))))
        .isEqualTo("rw-------");
    X509Certificate second = selfSigned(KeyAlgorithm.ECDSA_P256).bundle().root();
    assertThat(second).isEqualTo(first);
    assertThat(first.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(first.getKeyUsage()[5]).as("keyCertSign").isTrue();
  }

  @Test
  void storedKeyReadableByOthersIsRefused() throws Exception {
    selfSigned(KeyAlgorithm.ECDSA_P256);
    Files.setPosixFilePermissions(dir.resolve("ca-key.pem"), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> selfSigned(KeyAlgorithm.ECDSA_P256)).hasMessageContaining("ca-key.pem")
        .hasMessageContaining("chmod 600");
  }

  @Test
  void certificateWithoutKeyIsRefusedNamingTheMissingFile() throws Exception {
    selfSigned(KeyAlgorithm.ECDSA_P256);
    Files.delete(dir.resolve("ca-key.pem"));
    assertThatThrownBy(() -> selfSigned(KeyAlgorithm.ECDSA_P256)).hasMessageContaining("ca-key.pem does not");
  }

  @Test
  void leafIsAnX509Svid() throws Exception {
    CertificateAuthority ca = selfSigned(KeyAlgorithm.ECDSA_P256);
    IssuedIdentity issued = ca.issue(ID, KeyAlgorithm.ECDSA_P256, Duration.ZERO);
    X509Certificate leaf = issued.certificate().leaf();
    assertThat(leaf.getSubjectX500Principal().getName()).isEmpty();
    assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.subjectAlternativeName.getId(),
        Extension.keyUsage.getId(), Extension.basicConstraints.getId());
    assertThat(leaf.getSubjectAlternativeNames()).containsExactly(List.of(6, ID.toString()));
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
    boolean[] ku = leaf.getKeyUsage();
    assertThat(ku[0]).as("digitalSignature").isTrue();
    assertThat(ku[2]).as("keyEncipherment (EC key)").isFalse();
    assertThat(ku[5]).as("keyCertSign").isFalse();
    assertThat(ku[6]).as("cRLSign").isFalse();
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(24).plus(CertificateAuthority.BACKDATE));
    leaf.verify(ca.bundle().root().getPublicKey());
  }

  @Test
  void rsaLeafAlsoHasKeyEncipherment() throws Exception {
    CertificateAuthority ca = selfSigned(KeyAlgorithm.RSA_2048);
    X509Certificate leaf = ca.issue(ID, KeyAlgorithm.RSA_2048, Duration.ZERO).certificate().leaf();
    assertThat(leaf.getKeyUsage()[0]).isTrue();
    assertThat(leaf.getKeyUsage()[2]).isTrue();
    assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withRSA");
  }

  @Test
  void requestedTtlIsCappedByTheMaximum() throws Exception {
    CertificateAuthority ca = selfSigned(KeyAlgorithm.ECDSA_P256);
    assertThat(ca.grantedTtl(Duration.ofDays(30))).isEqualTo(Duration.ofDays(7));
    assertThat(ca.grantedTtl(Duration.ofHours(1))).isEqualTo(Duration.ofHours(1));
    assertThat(ca.grantedTtl(Duration.ZERO)).isEqualTo(Duration.ofHours(24));
    assertThat(ca.grantedTtl(Duration.ofSeconds(-5))).isEqualTo(Duration.ofHours(24));
    X509Certificate leaf = ca.issue(ID, KeyAlgorithm.ECDSA_P256, Duration.ofDays(365)).certificate().leaf();
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(7).plus(CertificateAuthority.BACKDATE));
  }

  @Test
  void maxShorterThanDefaultIsAConfigError() throws Exception {
    CaKeyCertBundle bundle = selfSigned(KeyAlgorithm.ECDSA_P256).bundle();
    assertThatThrownBy(() -> new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(24), Duration.ofHours(1)))
        .hasMessageContaining("max workload cert TTL");
    assertThatThrownBy(() -> new CertificateAuthority(bundle, "Cluster.Local", Duration.ofHours(1), Duration.ofHours(1)))
        .hasMessageContaining("trust domain");
  }

  @Test
  void csrIsSignedForItsSpiffeId() throws Exception {
    CertificateAuthority ca = selfSigned(KeyAlgorithm.ECDSA_P256);
    KeyPair pair = KeyAlgorithm.ECDSA_P256.generate();
    CertificateSigningRequest csr = CertificateSigningRequest.parse(TestPki.csr(pair, List.of(SubjectAltName.uri(ID))));
    assertThat(csr.spiffeId()).isEqualTo(ID);
    X509Certificate leaf = ca.sign(csr, Duration.ofHours(2)).leaf();
    assertThat(leaf.getPublicKey()).isEqualTo(pair.getPublic());
  }

  @Test
  void malformedCsrsAreRefusedWithTheReason() throws Exception {
    KeyPair pair = KeyAlgorithm.ECDSA_P256.generate();
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(pair, List.of())))
        .isInstanceOf(InvalidCsrException.class).hasMessageContaining("no subject alternative name");
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(pair,
        List.of(SubjectAltName.uri(ID), SubjectAltName.uri(SpiffeId.parse("spiffe://cluster.local/ns/x/sa/y"))))))
        .hasMessageContaining("more than one URI SAN");
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(pair,
        List.of(new SubjectAltName(SubjectAltName.Type.URI, "https://evil.example/x")))))
        .hasMessageContaining("URI SAN is malformed").hasMessageContaining("https://evil.example/x");
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(pair, List.of(SubjectAltName.dns("ca.example")))))
        .hasMessageContaining("no URI SAN");
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(pair,
        List.of(new SubjectAltName(SubjectAltName.Type.URI, "spiffe://cluster.local")))))
        .hasMessageContaining("has no path");
    assertThatThrownBy(() -> CertificateSigningRequest.parse("garbage")).hasMessageContaining("expected: one PEM");
    assertThatThrownBy(() -> CertificateSigningRequest.parse("x".repeat(70_000))).hasMessageContaining("at most");
  }

  @Test
  void weakKeysAndBadSignaturesAreRefused() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(1024);
    KeyPair weak = g.generateKeyPair();
    assertThatThrownBy(() -> CertificateSigningRequest.parse(TestPki.csr(weak, List.of(SubjectAltName.uri(ID)))))
        .hasMessageContaining("RSA key of 1024 bits");

    String pem = TestPki.csr(KeyAlgorithm.ECDSA_P256.generate(), List.of(SubjectAltName.uri(ID)));
    String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    byte[] der = Base64.getDecoder().decode(body);
    der[der.length - 5] ^= 0x01; // inside the signature
    String tampered = "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder().encodeToString(der)
        + "\n-----END CERTIFICATE REQUEST-----\n";
    assertThatThrownBy(() -> CertificateSigningRequest.parse(tampered)).isInstanceOf(InvalidCsrException.class)
        .hasMessageContaining("signature");
  }
}
