package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.xds.MtlsMode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CommandLineTest {

  @TempDir
  Path dir;

  @Test
  void discoveryFlagsHaveUpstreamsDefaultsAndRegistriesSplitOnCommas() {
    DiscoveryCommand d = new DiscoveryCommand();
    new CommandLine(d).parseArgs();
    assertThat(d.grpcPort).isEqualTo(15010);
    assertThat(d.monitoringPort).isEqualTo(15014);
    assertThat(d.domain).isEqualTo("cluster.local");
    assertThat(d.registries).containsExactly("kubernetes");

    DiscoveryCommand e = new DiscoveryCommand();
    new CommandLine(e).parseArgs("--registries", "file:///srv/a,kubernetes", "--configStoreURL", "fs:///srv/c",
        "--shutdownGracePeriod", "1m30s");
    assertThat(e.registries).containsExactly("file:///srv/a", "kubernetes");
    assertThat(e.shutdownGracePeriod).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void dumpChecksItsServerAddress() {
    assertThat(DumpCommand.checkServer("localhost:15010")).isNull();
    assertThat(DumpCommand.checkServer("[::1]:15010")).isNull();
    assertThat(DumpCommand.checkServer("localhost:99999")).isEqualTo("port 99999 (expected: 1-65535)");
    assertThat(DumpCommand.checkServer("localhost")).isEqualTo("expected host:port");
    assertThat(DumpCommand.checkServer("localhost:x")).contains("is not a number");
    assertThat(PilotDiscovery.commandLine().execute("dump", "--server", "localhost:0")).isEqualTo(2);
  }

  @Test
  void goDurations() {
    PilotDiscovery.DurationConverter c = new PilotDiscovery.DurationConverter();
    assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(c.convert("0")).isEqualTo(Duration.ZERO);
    assertThat(c.convert("1h2m")).isEqualTo(Duration.ofMinutes(62));
    assertThatThrownBy(() -> c.convert("5")).hasMessageContaining("'5' is not a duration");
    assertThatThrownBy(() -> c.convert("5s junk")).hasMessageContaining("is not a duration");
  }

  @Test
  void validateExitCodes() throws Exception {
    ValidateCommand ok = new ValidateCommand();
    ok.components = PilotComponents.standard().withValidator((d, mesh) -> List.of());
    assertThat(new CommandLine(ok).execute(dir.toString())).isZero();

    ValidateCommand bad = new ValidateCommand();
    bad.components = PilotComponents.standard().withValidator((d, mesh) -> List.of("a.yaml: one", "b.yaml: two"));
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(new CommandLine(bad).execute("fs://" + dir)).isEqualTo(1);
    } finally {
      System.setOut(old);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("a.yaml: one\nb.yaml: two\n");

    assertThat(new CommandLine(new ValidateCommand()).execute(dir.resolve("missing").toString())).isEqualTo(2);
    assertThat(new CommandLine(new ValidateCommand()).execute()).isEqualTo(2);
  }

  @Test
  void meshConfigYamlIsLaidOverUpstreamsDefaults() throws Exception {
    Path file = dir.resolve("mesh.yaml");
    Files.writeString(file, "mixerAddress: istio-mixer:9091\nconnect_timeout: 3s\nenableTracing: false\ndefaultConfig:\n  serviceCluster: x\n");
    MeshConfig m = MeshSettings.loadMeshConfig(file);
    assertThat(m.getMixerAddress()).isEqualTo("istio-mixer:9091");
    assertThat(m.getConnectTimeout().getSeconds()).isEqualTo(3);
    assertThat(m.getDefaultConfig().getServiceCluster()).isEqualTo("x");
    assertThat(m.getEnableTracing()).isFalse();
    assertThat(m.getProxyListenPort()).isEqualTo(15001);
    assertThat(m.getDefaultConfig().getProxyAdminPort()).isEqualTo(15000);

    Files.writeString(file, "noSuchField: 1\n");
    assertThatThrownBy(() -> MeshSettings.loadMeshConfig(file)).hasMessageContaining("--meshConfig " + file)
        .hasMessageContaining("noSuchField");
    Files.writeString(file, "- a\n- b\n");
    assertThatThrownBy(() -> MeshSettings.loadMeshConfig(file)).hasMessageContaining("expected a mapping");
    assertThatThrownBy(() -> MeshSettings.loadMeshConfig(dir.resolve("nope.yaml"))).hasMessageContaining("no such file");
    assertThat(MeshSettings.loadMeshConfig(null)).isEqualTo(MeshSettings.defaultMeshConfig());
  }

  @Test
  void badDomainsAndPortsAreUsageErrors() {
    assertThatThrownBy(() -> new MeshSettings(".cluster.local", "", MeshSettings.defaultMeshConfig()))
        .hasMessageContaining("--domain");
    assertThatThrownBy(() -> new DiscoveryOptions("", 70000, "", 0, List.of("kubernetes"), null,
        new MeshSettings("cluster.local", "", MeshSettings.defaultMeshConfig()), Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessage("--grpcPort: 70000 (expected: 0-65535)");
  }

  @Test
  void mtlsFlagsAreOffByDefaultAndBadOnesAreRefusedByName() throws Exception {
    DiscoveryCommand d = new DiscoveryCommand();
    new CommandLine(d).parseArgs();
    assertThat(d.options().mesh().mtls()).isNull();

    Path root = dir.resolve("root.pem");
    Files.writeString(root, Pem.encode(new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir.resolve("ca")),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", Duration.ofHours(1), Duration.ofDays(1)).bundle().root()));
    Path token = dir.resolve("token");
    Files.writeString(token, "abc.def-ghi\n");
    DiscoveryCommand ok = new DiscoveryCommand();
    new CommandLine(ok).parseArgs("--caAddress", "istio-ca:8060", "--caRootCert", root.toString(),
        "--caTokenFile", token.toString(), "--mtlsMode", "mutual_tls", "--certificateTtl", "1h");
    MtlsSettings m = ok.options().mesh().mtls();
    assertThat(m).isNotNull();
    assertThat(m.mode()).isEqualTo(MtlsMode.STRICT);
    assertThat(m.token()).isEqualTo("abc.def-ghi");
    assertThat(m.certificateTtl()).isEqualTo(Duration.ofHours(1));
    // The mode defaults to the MeshConfig's authPolicy.
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(mesh, "authPolicy: MUTUAL_TLS\n");
    DiscoveryCommand fromMesh = new DiscoveryCommand();
    new CommandLine(fromMesh).parseArgs("--caAddress", "istio-ca:8060", "--caRootCert", root.toString(),
        "--meshConfig", mesh.toString());
    assertThat(fromMesh.options().mesh().mtls().mode()).isEqualTo(MtlsMode.STRICT);

    Path empty = dir.resolve("empty");
    Files.writeString(empty, "\n");
    Path garbage = dir.resolve("garbage.pem");
    Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    String r = root.toString();
    assertRefused("--caRootCert: set without --caAddress", "--caRootCert", r);
    assertRefused("--mtlsMode: set without --caAddress", "--mtlsMode", "STRICT");
    assertRefused("--caAddress: 'istio-ca': expected host:port", "--caAddress", "istio-ca", "--caRootCert", r);
    assertRefused("--caAddress: 'istio-ca:0': port 0", "--caAddress", "istio-ca:0", "--caRootCert", r);
    assertRefused("--caRootCert: not set", "--caAddress", "istio-ca:8060");
    assertRefused("--caRootCert: " + dir.resolve("nope.pem") + ": no such file", "--caAddress", "istio-ca:8060",
        "--caRootCert", dir.resolve("nope.pem").toString());
    assertRefused("--caRootCert: " + garbage + ": not a PEM certificate", "--caAddress", "istio-ca:8060",
        "--caRootCert", garbage.toString());
    assertRefused("--caTokenFile: " + empty + ": empty", "--caAddress", "istio-ca:8060", "--caRootCert", r,
        "--caTokenFile", empty.toString());
    assertRefused("--mtlsMode: 'MUTUAL' (expected: MUTUAL_TLS or STRICT, PERMISSIVE, NONE or DISABLE)",
        "--caAddress", "istio-ca:8060", "--caRootCert", r, "--mtlsMode", "MUTUAL");
    assertRefused("--certificateTtl: PT1S (expected: at least 2m", "--caAddress", "istio-ca:8060", "--caRootCert", r,
        "--certificateTtl", "1s");
    // And the process exits 2 with the message, before listening.
    PrintStream old = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      assertThat(PilotDiscovery.commandLine().execute("discovery", "--grpcPort", "0", "--monitoringPort", "0",
          "--registries", "file://" + dir, "--caAddress", "istio-ca:8060", "--caRootCert", garbage.toString())).isEqualTo(2);
    } finally {
      System.setErr(old);
    }
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("pilot-discovery: --caRootCert: " + garbage);
  }

  private static void assertRefused(String message, String... args) {
    DiscoveryCommand d = new DiscoveryCommand();
    new CommandLine(d).parseArgs(args);
    assertThatThrownBy(d::options).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }
}
