package io.istio4j.ca;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.ca.testing.Openssl;
import io.istio4j.ca.testing.TestPki;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA's certificates checked by the real openssl: chains verify, the SVID properties show, mutual TLS works. */
class OpensslIT {

  private static final SpiffeId FRONTEND = SpiffeId.forServiceAccount("cluster.local", "default", "frontend");
  private static final SpiffeId BACKEND = SpiffeId.forServiceAccount("cluster.local", "default", "backend");

  @TempDir
  Path dir;

  private CertificateAuthority selfSigned(Path storage, KeyAlgorithm algorithm) throws IOException {
    return new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(storage),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), algorithm, "cluster.local")),
        "cluster.local", Duration.ofHours(24), Duration.ofDays(7));
  }

  /** Writes key.pem, cert-chain.pem and root-cert.pem of an identity into {@code name}/. */
  private Path write(String name, IssuedIdentity id) throws IOException {
    Path d = dir.resolve(name);
    SecureFiles.writeSecret(d.resolve("key.pem"), id.keyPem());
    SecureFiles.writePublic(d.resolve("cert-chain.pem"), id.certificate().certChainPem());
    SecureFiles.writePublic(d.resolve("leaf.pem"), Pem.encode(id.certificate().leaf()));
    SecureFiles.writePublic(d.resolve("root-cert.pem"), id.certificate().rootPem());
    return d;
  }

  private void verify(Path d) throws Exception {
    String out = Openssl.run(d, "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", "root-cert.pem",
        "-untrusted", "cert-chain.pem", "leaf.pem").assertOk("openssl verify (sslclient)").output();
    assertThat(out).contains("leaf.pem: OK");
    Openssl.run(d, "verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", "root-cert.pem",
        "-untrusted", "cert-chain.pem", "leaf.pem").assertOk("openssl verify (sslserver)");
  }

  @Test
  void selfSignedChainsVerifyForBothKeyTypes() throws Exception {
    for (KeyAlgorithm algorithm : KeyAlgorithm.values()) {
      CertificateAuthority ca = selfSigned(dir.resolve("ca-" + algorithm), algorithm);
      verify(write("self-" + algorithm, ca.issue(FRONTEND, algorithm, Duration.ZERO)));
    }
  }

  @Test
  void pluginCaWithAnIntermediateMadeByOpensslVerifies() throws Exception {
    Path pki = Files.createDirectories(dir.resolve("pki"));
    Openssl.run(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "root-key.pem", "-out", "root-cert.pem", "-days", "30", "-subj", "/O=Operator/CN=Operator Root",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        .assertOk("root");
    Openssl.run(pki, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.csr",
        "-subj", "/O=Operator/CN=Istio Intermediate").assertOk("intermediate CSR");
    Files.writeString(pki.resolve("ext.cnf"),
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n");
    Openssl.run(pki, "x509", "-req", "-in", "ca.csr", "-CA", "root-cert.pem", "-CAkey", "root-key.pem",
        "-CAcreateserial", "-days", "20", "-extfile", "ext.cnf", "-out", "ca-cert.pem").assertOk("intermediate");
    Files.writeString(pki.resolve("cert-chain.pem"), Files.readString(pki.resolve("ca-cert.pem")));

    CaKeyCertBundle bundle = PluginCa.load(pki.resolve("ca-cert.pem"), pki.resolve("ca-key.pem"),
        pki.resolve("root-cert.pem"), pki.resolve("cert-chain.pem"));
    CertificateAuthority ca = new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(1), Duration.ofHours(1));
    for (KeyAlgorithm algorithm : KeyAlgorithm.values()) {
      Path d = write("plugin-" + algorithm, ca.issue(BACKEND, algorithm, Duration.ZERO));
      assertThat(Pem.readCertificates(Files.readString(d.resolve("cert-chain.pem")), "chain")).hasSize(2);
      verify(d);
    }
  }

  @Test
  void x509TextShowsTheSvidProperties() throws Exception {
    CertificateAuthority ca = selfSigned(dir.resolve("ca"), KeyAlgorithm.RSA_2048);
    Path d = write("rsa", ca.issue(FRONTEND, KeyAlgorithm.RSA_2048, Duration.ZERO));
    String text = Openssl.run(d, "x509", "-in", "leaf.pem", "-noout", "-text").assertOk("x509 -text").output();
    assertThat(text)
        .contains("X509v3 Subject Alternative Name: critical")
        .contains("URI:" + FRONTEND)
        .contains("X509v3 Key Usage: critical")
        .contains("Digital Signature, Key Encipherment")
        .contains("TLS Web Server Authentication, TLS Web Client Authentication")
        .contains("X509v3 Basic Constraints: critical")
        .contains("CA:FALSE")
        .doesNotContain("Certificate Sign");
    assertThat(text.lines().filter(l -> l.contains("Subject:")).findFirst().orElseThrow().trim()).isEqualTo("Subject:");
    assertThat(text.split("URI:", -1)).hasSize(2);

    Path ec = write("ec", ca.issue(BACKEND, KeyAlgorithm.ECDSA_P256, Duration.ZERO));
    String ecText = Openssl.run(ec, "x509", "-in", "leaf.pem", "-noout", "-text").assertOk("x509 -text").output();
    assertThat(ecText).contains("Digital Signature").doesNotContain("Key Encipherment").contains("prime256v1");
  }

  @Test
  void twoIssuedIdentitiesCompleteMutualTlsAndAForeignCertificateIsRefused() throws Exception {
    CertificateAuthority ca = selfSigned(dir.resolve("ca"), KeyAlgorithm.ECDSA_P256);
    Path server = write("server", ca.issue(BACKEND, KeyAlgorithm.ECDSA_P256, Duration.ZERO));
    Path client = write("client", ca.issue(FRONTEND, KeyAlgorithm.ECDSA_P256, Duration.ZERO));
    TestPki.Ca foreignRoot = TestPki.root("Foreign Root", KeyAlgorithm.ECDSA_P256);
    CertificateAuthority foreign = new CertificateAuthority(
        CaKeyCertBundle.selfSigned(foreignRoot.cert(), foreignRoot.key()), "cluster.local", Duration.ofHours(1),
        Duration.ofHours(1));
    // Same SPIFFE ID as the legitimate client: only the issuer differs.
    Path stranger = write("stranger", foreign.issue(FRONTEND, KeyAlgorithm.ECDSA_P256, Duration.ZERO));
    // The stranger trusts the mesh's root (it is public), so only the server's check can refuse it.
    Files.copy(server.resolve("root-cert.pem"), stranger.resolve("root-cert.pem"), StandardCopyOption.REPLACE_EXISTING);

    Exchange ok = exchange(server, client);
    assertThat(ok.clientExit).as(ok.toString()).isZero();
    assertThat(ok.client).as(ok.toString()).contains("Verification: OK");
    assertThat(ok.server).as(ok.toString()).contains("hello from the client");

    Exchange refused = exchange(server, stranger);
    assertThat(refused.server).as(refused.toString()).doesNotContain("hello from the client")
        .contains("tls_process_client_certificate:certificate verify failed");
    assertThat(refused.client).as(refused.toString()).contains("alert unknown ca");
    assertThat(refused.clientExit).as(refused.toString()).isNotZero();
  }

  private record Exchange(int clientExit, String client, String server) {
    @Override
    public String toString() {
      return "s_client (exit " + clientExit + "):\n" + client + "\ns_server:\n" + server;
    }
  }

  /** One s_server (requiring a client certificate) and one s_client; the client sends a line. */
  private Exchange exchange(Path serverDir, Path clientDir) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process server = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-naccept", "1",
        "-cert", "cert-chain.pem", "-key", "key.pem", "-CAfile", "root-cert.pem", "-Verify", "1",
        "-verify_return_error", "-tls1_3")
        .directory(serverDir.toFile()).redirectErrorStream(true).start();
    try {
      ByteArrayOutputStream serverOut = new ByteArrayOutputStream();
      Thread pump = pump(server.getInputStream(), serverOut);
      waitFor(serverOut, "ACCEPT");
      List<String> command = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-brief",
          "-cert", "leaf.pem", "-cert_chain", "cert-chain.pem", "-key", "key.pem", "-CAfile", "root-cert.pem",
          "-verify_return_error", "-tls1_3"));
      Process client = new ProcessBuilder(command).directory(clientDir.toFile()).redirectErrorStream(true).start();
      client.getOutputStream().write("hello from the client\n".getBytes(UTF_8));
      client.getOutputStream().flush();
      // Give the server the line before the client closes (TLS 1.3 reports a refused client
      // certificate only after the handshake, on the next read).
      for (int i = 0; i < 200 && server.isAlive() && !serverOut.toString(UTF_8).contains("hello from the client"); i++) {
        Thread.sleep(50);
      }
      client.getOutputStream().close();
      waitForExit(client, 30);
      server.destroy();
      waitForExit(server, 30);
      pump.join(10_000);
      return new Exchange(client.exitValue(), new String(client.getInputStream().readAllBytes(), UTF_8),
          serverOut.toString(UTF_8));
    } finally {
      server.destroyForcibly();
    }
  }

  private static void waitForExit(Process p, int seconds) throws InterruptedException {
    p.waitFor(seconds, TimeUnit.SECONDS);
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream out) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[4096];
      try {
        int n;
        while ((n = in.read(buf)) >= 0) {
          synchronized (out) {
            out.write(buf, 0, n);
          }
        }
      } catch (IOException e) {
        // the process ended
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static void waitFor(ByteArrayOutputStream out, String text) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      synchronized (out) {
        if (out.toString(UTF_8).contains(text)) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("openssl s_server did not print " + text + ":\n" + out.toString(UTF_8));
  }
}
