package io.istio4j.ca.nodeagent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SecureFiles;
import io.istio4j.ca.server.testing.RunningCa;
import io.istio4j.ca.testing.Openssl;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeAgentIT {

  @TempDir
  Path dir;

  private Path bootstrap(RunningCa ca, String ns, String sa) throws Exception {
    IssuedIdentity id = ca.identity(ns, sa);
    Path certs = Files.createDirectories(dir.resolve("certs"));
    SecureFiles.writeSecret(certs.resolve("key.pem"), id.keyPem());
    SecureFiles.writePublic(certs.resolve("cert-chain.pem"), id.certificate().certChainPem());
    SecureFiles.writePublic(certs.resolve("root-cert.pem"), ca.rootPem());
    return certs;
  }

  private static NodeAgent agent(String address, Path certs, boolean legacy) {
    return new NodeAgent(new NodeAgent.Config(address, "istio-ca", certs.resolve("cert-chain.pem"),
        certs.resolve("key.pem"), certs.resolve("root-cert.pem"), KeyAlgorithm.ECDSA_P256, 50, Duration.ZERO,
        Duration.ofMillis(100), Duration.ofMillis(400), legacy));
  }

  private static X509Certificate leaf(Path certs) throws Exception {
    return Pem.readCertificates(Files.readString(certs.resolve("cert-chain.pem")), "chain").get(0);
  }

  private static void opensslVerifies(Path certs) throws Exception {
    Files.writeString(certs.resolve("leaf.pem"), Pem.encode(leaf(certs)));
    Openssl.run(certs, "verify", "-CAfile", "root-cert.pem", "-untrusted", "cert-chain.pem", "leaf.pem")
        .assertOk("openssl verify of the renewed chain");
  }

  @Test
  void renewsAtHalfLifeAndEveryNewChainVerifies() throws Exception {
    for (boolean legacy : new boolean[] {false, true}) {
      try (RunningCa ca = RunningCa.start(dir.resolve("ca-" + legacy), Duration.ofSeconds(4), b -> { })) {
        Path certs = bootstrap(ca, "vm", "mysql");
        BigInteger bootstrapSerial = leaf(certs).getSerialNumber();
        NodeAgent agent = agent(ca.address(), certs, legacy);
        Thread t = new Thread(agent, "node-agent-test");
        t.start();
        try {
          await(() -> agent.renewals() >= 2, "two renewals");
        } finally {
          agent.stop();
          t.join(10_000);
        }
        X509Certificate renewed = leaf(certs);
        assertThat(renewed.getSerialNumber()).isNotEqualTo(bootstrapSerial);
        assertThat(renewed.getSubjectAlternativeNames()).containsExactly(List.of(6, "spiffe://cluster.local/ns/vm/sa/mysql"));
        assertThat(keyMatches(renewed, Pem.readPrivateKey(Files.readString(certs.resolve("key.pem")), "key"))).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("key.pem"))))
            .isEqualTo("rw-------");
        opensslVerifies(certs);
      }
    }
  }

  @Test
  void survivesTheCaBeingDownAndRenewsWhenItIsBack() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path storage = dir.resolve("ca");
    // 20 s certificates: renewal is due after about 10 s, and the CA is back well before expiry.
    RunningCa first = RunningCa.start(storage, Duration.ofSeconds(20), b -> { });
    Path certs = bootstrap(first, "vm", "db");
    var authority = first.ca();
    first.close();

    NodeAgent agent = agent("localhost:" + port, certs, false);
    Thread t = new Thread(agent, "node-agent-test");
    t.start();
    try {
      // The CA is down past the bootstrap certificate's half-life: the agent keeps retrying.
      await(() -> agent.failedAttempts() >= 3, "failed attempts while the CA is down");
      assertThat(agent.renewals()).isZero();
      assertThat(t.isAlive()).isTrue();
      try (RunningCa again = RunningCa.start(authority, port, b -> { })) {
        await(() -> agent.renewals() >= 1, "a renewal once the CA is back");
        assertThat(again.rootPem()).isEqualTo(Files.readString(certs.resolve("root-cert.pem")));
      }
    } finally {
      agent.stop();
      t.join(10_000);
    }
    opensslVerifies(certs);
  }

  @Test
  void aBootstrapCertificateWithoutExactlyOneUriSanIsRefused() throws Exception {
    try (RunningCa ca = RunningCa.start(dir.resolve("ca"), b -> { })) {
      Path certs = bootstrap(ca, "vm", "x");
      var serving = ca.ca().issueServing(List.of("vm.example"), KeyAlgorithm.ECDSA_P256, Duration.ofHours(1));
      SecureFiles.writePublic(certs.resolve("cert-chain.pem"), serving.certificate().certChainPem());
      assertThatThrownBy(() -> NodeAgent.identity(leaf(certs))).hasMessageContaining("0 URI SANs");
    }
  }

  private static boolean keyMatches(X509Certificate cert, PrivateKey key) throws Exception {
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(new byte[] {1, 2, 3});
    byte[] sig = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(cert.getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    return verifier.verify(sig);
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what);
  }
}
