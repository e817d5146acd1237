package io.istio4j.ca.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IstioCaCliTest {

  @TempDir
  Path dir;

  private record Run(int exit, String err) {}

  private static Run run(String... args) {
    PrintStream saved = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Run(IstioCa.run(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(saved);
    }
  }

  @Test
  void aSelfSignedCaWithoutStorageIsRefused() {
    Run r = run("--grpc-port", "0", "--monitoring-port", "-1");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("needs --storage DIR or --storage-secret");
  }

  @Test
  void aPartialPluginCaIsRefused() {
    Run r = run("serve", "--signing-cert", "x.pem", "--grpc-port", "0");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--signing-cert, --signing-key and --root-cert");
  }

  @Test
  void ttlFlagsAreCheckedBeforeARootIsMade() {
    Run r = run("--storage", dir.resolve("ca").toString(), "--workload-cert-ttl", "48h", "--max-workload-cert-ttl",
        "24h", "--grpc-port", "0");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--workload-cert-ttl 2d and --max-workload-cert-ttl 1d");
    assertThat(dir.resolve("ca")).doesNotExist();
  }

  @Test
  void issueWritesABootstrapIdentityFromTheStoredRootAndNeverMakesOne() throws Exception {
    Run none = run("issue", "--storage", dir.resolve("ca").toString(), "--namespace", "vm", "--service-account", "db",
        "--out", dir.resolve("out").toString());
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("holds no CA root yet");
    assertThat(dir.resolve("ca")).doesNotExist();

    SelfSignedRootForTest.create(dir.resolve("ca"));
    Run ok = run("issue", "--storage", dir.resolve("ca").toString(), "--namespace", "vm", "--service-account", "db",
        "--out", dir.resolve("out").toString(), "--ttl", "2h");
    assertThat(ok.exit()).isZero();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("out/key.pem"))))
        .isEqualTo("rw-------");
    assertThat(Pem.readCertificates(Files.readString(dir.resolve("out/cert-chain.pem")), "chain").get(0)
        .getSubjectAlternativeNames().iterator().next().get(1)).isEqualTo("spiffe://cluster.local/ns/vm/sa/db");
    assertThat(Files.readString(dir.resolve("out/root-cert.pem"))).isEqualTo(Files.readString(dir.resolve("ca/ca-cert.pem")));
  }

  /** Makes a root the way serve does on first start. */
  static final class SelfSignedRootForTest {
    static void create(Path storage) throws Exception {
      SelfSignedCa.loadOrCreate(new DirectoryCaStorage(storage), new SelfSignedCa.RootOptions("k8s.cluster.local",
          Duration.ofDays(1), KeyAlgorithm.ECDSA_P256, "cluster.local"));
    }
  }
}
