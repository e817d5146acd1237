package io.istio4j.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.ca.testing.TestPki;
import io.istio4j.ca.testing.TestPki.Ca;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginCaTest {

  @TempDir
  Path dir;

  private Ca root;
  private Ca intermediate;

  @BeforeEach
  void pki() throws Exception {
    root = TestPki.root("Operator Root", KeyAlgorithm.ECDSA_P256);
    intermediate = TestPki.intermediate(root, "Istio Intermediate", KeyAlgorithm.ECDSA_P256);
    Files.writeString(dir.resolve("root-cert.pem"), Pem.encode(root.cert()));
    Files.writeString(dir.resolve("ca-cert.pem"), Pem.encode(intermediate.cert()));
    Files.writeString(dir.resolve("ca-key.pem"), Pem.encode(intermediate.key()));
    Files.writeString(dir.resolve("cert-chain.pem"), Pem.encode(List.of(intermediate.cert(), root.cert())));
  }

  private CaKeyCertBundle load(String chain) throws Exception {
    return PluginCa.load(dir.resolve("ca-cert.pem"), dir.resolve("ca-key.pem"), dir.resolve("root-cert.pem"),
        chain == null ? null : dir.resolve(chain));
  }

  @Test
  void intermediateSignsAndItsChainEndsAtTheRoot() throws Exception {
    CaKeyCertBundle bundle = load("cert-chain.pem");
    assertThat(bundle.chain()).containsExactly(intermediate.cert());
    assertThat(bundle.root()).isEqualTo(root.cert());
    IssuedCertificate leaf = new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(1), Duration.ofHours(1))
        .issue(SpiffeId.forServiceAccount("cluster.local", "ns", "sa"), KeyAlgorithm.ECDSA_P256, Duration.ZERO)
        .certificate();
    leaf.leaf().verify(intermediate.cert().getPublicKey());
    assertThat(leaf.fullChainPems()).hasSize(3);
  }

  @Test
  void chainMayBeOmittedWhenItHoldsOnlyTheSigningCert() throws Exception {
    assertThat(load(null).chain()).containsExactly(intermediate.cert());
  }

  @Test
  void pkcs1RsaKeyAsIstio02WroteItIsRead() throws Exception {
    Ca rsa = TestPki.intermediate(root, "RSA Intermediate", KeyAlgorithm.RSA_2048);
    Files.writeString(dir.resolve("ca-cert.pem"), Pem.encode(rsa.cert()));
    Files.writeString(dir.resolve("ca-key.pem"), Pem.encodeTraditional(rsa.key()));
    assertThat(Files.readString(dir.resolve("ca-key.pem"))).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(load(null).signingKey()).isEqualTo(rsa.key());
  }

  @Test
  void keyOfAnotherCertificateIsNamed() throws Exception {
    Files.writeString(dir.resolve("ca-key.pem"), Pem.encode(root.key()));
    assertThatThrownBy(() -> load("cert-chain.pem")).hasMessageContaining("--signing-key " + dir.resolve("ca-key.pem"))
        .hasMessageContaining("does not match");
  }

  @Test
  void signingCertFromAnotherRootIsNamed() throws Exception {
    Ca other = TestPki.root("Other Root", KeyAlgorithm.ECDSA_P256);
    Files.writeString(dir.resolve("root-cert.pem"), Pem.encode(other.cert()));
    assertThatThrownBy(() -> load(null)).hasMessageContaining("--signing-cert " + dir.resolve("ca-cert.pem"))
        .hasMessageContaining("is not signed by --root-cert");
  }

  @Test
  void brokenChainFileIsNamed() throws Exception {
    Ca middle = TestPki.intermediate(root, "Middle", KeyAlgorithm.ECDSA_P256);
    Ca stranger = TestPki.intermediate(TestPki.root("Elsewhere", KeyAlgorithm.ECDSA_P256), "Stranger",
        KeyAlgorithm.ECDSA_P256);
    Ca signing = TestPki.intermediate(middle, "Signing", KeyAlgorithm.ECDSA_P256);
    Files.writeString(dir.resolve("ca-cert.pem"), Pem.encode(signing.cert()));
    Files.writeString(dir.resolve("ca-key.pem"), Pem.encode(signing.key()));
    Files.writeString(dir.resolve("good-chain.pem"), Pem.encode(List.of(middle.cert())));
    assertThat(load("good-chain.pem").chain()).containsExactly(signing.cert(), middle.cert());
    Files.writeString(dir.resolve("bad-chain.pem"), Pem.encode(List.of(middle.cert(), stranger.cert())));
    assertThatThrownBy(() -> load("bad-chain.pem")).hasMessageContaining("--cert-chain " + dir.resolve("bad-chain.pem"));
  }

  @Test
  void rootThatIsNotSelfSignedIsNamed() throws Exception {
    Files.writeString(dir.resolve("root-cert.pem"), Pem.encode(intermediate.cert()));
    assertThatThrownBy(() -> load(null)).hasMessageContaining("--root-cert").hasMessageContaining("not self-signed");
  }

  @Test
  void garbageFilesAreNamed() throws Exception {
    Files.writeString(dir.resolve("ca-cert.pem"), "not a certificate");
    assertThatThrownBy(() -> load(null)).hasMessageContaining("--signing-cert " + dir.resolve("ca-cert.pem"));
    assertThatThrownBy(() -> PluginCa.load(dir.resolve("missing.pem"), dir.resolve("ca-key.pem"),
        dir.resolve("root-cert.pem"), null)).hasMessageContaining("missing.pem");
  }
}
