package io.istio4j.ca.nodeagent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.ca.Pem;
import io.istio4j.ca.testing.Openssl;
import java.io.File;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The walk-through of docs/ca.md with the real launchers: bin/istio-ca serves, issues a bootstrap
 * identity, bin/node-agent renews it, openssl verifies every chain; the CA stops (SIGTERM) and
 * comes back with the same root and the agent renews again.
 */
class LaunchersIT {

  private static final Path BIN = Path.of("").toAbsolutePath().resolve("../../bin").normalize();

  @TempDir
  Path dir;

  private final List<Process> processes = new ArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private Process start(String name, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(BIN.resolve(name).toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + "-" + processes.size() + ".log").toFile()).start();
    processes.add(p);
    return p;
  }

  private String run(String name, String... args) throws Exception {
    Process p = start(name, args);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(name + " finished").isTrue();
    String out = Files.readString(dir.resolve(name + "-" + (processes.size() - 1) + ".log"));
    assertThat(p.exitValue()).as(name + " exit code; output:\n" + out).isZero();
    return out;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Process startCa(int grpcPort, int monitoringPort) throws Exception {
    Process ca = start("istio-ca", "serve", "--storage", dir.resolve("ca").toString(), "--grpc-port",
        String.valueOf(grpcPort), "--grpc-hostname", "istio-ca,localhost", "--monitoring-port",
        String.valueOf(monitoringPort), "--monitoring-address", "127.0.0.1", "--workload-cert-ttl", "40s");
    await(() -> ready(monitoringPort), "istio-ca /readyz", ca);
    return ca;
  }

  private static boolean ready(int port) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
          .build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private BigInteger serial(Path certs) throws IOException {
    return Pem.readCertificates(Files.readString(certs.resolve("cert-chain.pem"), UTF_8), "chain").get(0)
        .getSerialNumber();
  }

  private void verify(Path certs) throws Exception {
    Openssl.run(certs, "x509", "-in", "cert-chain.pem", "-out", "leaf.pem").assertOk("extract leaf");
    Openssl.run(certs, "verify", "-CAfile", "root-cert.pem", "-untrusted", "cert-chain.pem", "leaf.pem")
        .assertOk("openssl verify");
  }

  @Test
  void caIssuesABootstrapIdentityTheNodeAgentRenewsItAcrossACaRestart() throws Exception {
    assertThat(BIN.resolve("istio-ca")).as("bin/istio-ca").exists();
    int grpcPort = freePort();
    int monitoringPort = freePort();
    Process ca = startCa(grpcPort, monitoringPort);
    String rootBefore = Files.readString(dir.resolve("ca/ca-cert.pem"));

    Path certs = dir.resolve("certs");
    String issued = run("istio-ca", "issue", "--storage", dir.resolve("ca").toString(), "--namespace", "vm",
        "--service-account", "mysql", "--out", certs.toString(), "--ttl", "40s");
    assertThat(issued).contains("spiffe://cluster.local/ns/vm/sa/mysql");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("key.pem"))))
        .isEqualTo("rw-------");
    verify(certs);
    BigInteger bootstrap = serial(certs);

    Process agent = start("node-agent", "--ca-address", "localhost:" + grpcPort, "--ca-hostname", "istio-ca",
        "--cert-chain", certs.resolve("cert-chain.pem").toString(), "--key", certs.resolve("key.pem").toString(),
        "--root-cert", certs.resolve("root-cert.pem").toString(), "--initial-backoff", "200ms", "--max-backoff", "1s");
    await(() -> !serialOrNull(certs).equals(bootstrap), "the node agent's first renewal", agent);
    verify(certs);

    ca.destroy(); // SIGTERM: graceful
    assertThat(ca.waitFor(60, TimeUnit.SECONDS)).as("istio-ca stops on SIGTERM").isTrue();
    assertThat(ca.exitValue()).isZero();
    BigInteger whileDown = serial(certs);
    // Past the current certificate's half-life the agent retries against the closed port.
    Path agentLog = dir.resolve("node-agent-" + (processes.size() - 1) + ".log");
    await(() -> logContains(agentLog, "Renewal attempt 2 failed"), "the agent retrying while the CA is down", agent);
    assertThat(agent.isAlive()).as("node agent survives the CA being down").isTrue();

    startCa(grpcPort, monitoringPort);
    assertThat(Files.readString(dir.resolve("ca/ca-cert.pem"))).isEqualTo(rootBefore);
    await(() -> !serialOrNull(certs).equals(whileDown), "a renewal after the CA is back", agent);
    verify(certs);

    agent.destroy();
    assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(agentLog)).contains("UNAVAILABLE");
  }

  private static boolean logContains(Path log, String text) {
    try {
      return Files.readString(log).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

  private BigInteger serialOrNull(Path certs) {
    try {
      return serial(certs);
    } catch (IOException | RuntimeException e) {
      return BigInteger.ZERO;
    }
  }

  @Test
  void aPluginCaWithABrokenChainNamesTheFile() throws Exception {
    Path pki = Files.createDirectories(dir.resolve("pki"));
    Openssl.run(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "root-key.pem", "-out", "root-cert.pem", "-days", "30", "-subj", "/CN=Root").assertOk("root");
    Openssl.run(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "ca-key.pem", "-out", "ca-cert.pem", "-days", "30", "-subj", "/CN=Not From Root").assertOk("other");
    Process ca = start("istio-ca", "--signing-cert", pki.resolve("ca-cert.pem").toString(), "--signing-key",
        pki.resolve("ca-key.pem").toString(), "--root-cert", pki.resolve("root-cert.pem").toString(),
        "--grpc-port", String.valueOf(freePort()), "--monitoring-port", "-1");
    assertThat(ca.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(ca.exitValue()).isEqualTo(2);
    assertThat(Files.readString(dir.resolve("istio-ca-0.log")))
        .contains("--signing-cert " + pki.resolve("ca-cert.pem") + ": certificate CN=Not From Root")
        .contains("not signed by --root-cert " + pki.resolve("root-cert.pem"));
  }

  private void await(BooleanSupplier condition, String what, Process process) throws Exception {
    for (int i = 0; i < 1200; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      if (!process.isAlive()) {
        throw new AssertionError(what + ": the process exited with " + process.exitValue() + "; logs:\n" + logs());
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what + "; logs:\n" + logs());
  }

  private String logs() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (File f : dir.toFile().listFiles((d, n) -> n.endsWith(".log"))) {
      sb.append("== ").append(f.getName()).append('\n').append(Files.readString(f.toPath()));
    }
    return sb.toString();
  }
}
