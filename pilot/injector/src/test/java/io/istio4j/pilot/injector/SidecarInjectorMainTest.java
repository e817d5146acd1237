package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code sidecar-injector kube-inject} on the example under examples/sidecar-injection, as docs/pilot.md runs it. */
class SidecarInjectorMainTest {

  private static final Path EXAMPLE = Path.of("../../examples/sidecar-injection").toAbsolutePath().normalize();

  /** Runs the command line; returns the exit code, stderr into {@code err}. */
  private static int run(StringWriter err, String... args) {
    CommandLine cl = SidecarInjectorMain.commandLine();
    cl.setErr(new PrintWriter(err, true));
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try {
      System.setErr(new PrintStream(captured, true, UTF_8));
      return cl.execute(args);
    } finally {
      System.setErr(original);
      err.write(captured.toString(UTF_8));
    }
  }

  @Test
  void theDocumentedExampleInjectsTheDeploymentAndSkipsTheOthers(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("reviews-injected.yaml");
    StringWriter err = new StringWriter();

    int code = run(err, "kube-inject", "-f", EXAMPLE.resolve("reviews.yaml").toString(),
        "--meshConfig", EXAMPLE.resolve("mesh.yaml").toString(),
        "--injectConfig", EXAMPLE.resolve("inject-config.yaml").toString(), "-o", out.toString());

    assertThat(code).as(err.toString()).isZero();
    assertThat(err.toString().lines()).containsExactly(
        "injected Deployment reviews-v1: policy enabled",
        "skipped  Job reviews-db-migrate: sidecar.istio.io/inject: \"false\"",
        "skipped  DaemonSet node-exporter: hostNetwork: the init container's iptables rules would change the "
            + "node's routing");
    List<JsonNode> docs = Fixtures.docs(Files.readString(out));
    List<JsonNode> in = Fixtures.docs(Files.readString(EXAMPLE.resolve("reviews.yaml")));
    assertThat(docs).hasSize(4);
    assertThat(docs.get(0)).isEqualTo(in.get(0));
    assertThat(docs.get(2)).isEqualTo(in.get(2));
    assertThat(docs.get(3)).isEqualTo(in.get(3));
    JsonNode pod = docs.get(1).path("spec").path("template");
    assertThat(names(pod.path("spec").path("containers"))).containsExactly("reviews", "istio-proxy");
    assertThat(names(pod.path("spec").path("initContainers"))).containsExactly("istio-init");
    assertThat(pod.path("spec").path("volumes").get(1).path("secret").path("secretName").asText())
        .isEqualTo("istio.bookinfo-reviews");
    assertThat(pod.path("spec").path("containers").get(1).path("args").toString())
        .contains("\"--discoveryAddress\",\"istio-pilot.istio-system:15010\"", "\"--drainDuration\",\"45s\"",
            "\"--parentShutdownDuration\",\"1m0s\"", "\"--serviceCluster\",\"reviews\"");
    assertThat(pod.path("metadata").path("annotations").path("sidecar.istio.io/status").asText())
        .isEqualTo("injected-version-0.2.12");
  }

  private static List<String> names(JsonNode list) {
    List<String> out = new ArrayList<>();
    list.forEach(n -> out.add(n.path("name").asText()));
    return out;
  }

  @Test
  void badInputsExitWithTheirReason(@TempDir Path tmp) throws Exception {
    StringWriter err = new StringWriter();
    assertThat(run(err, "kube-inject", "-f", tmp.resolve("none.yaml").toString())).isEqualTo(2);
    assertThat(err.toString()).contains("-f " + tmp.resolve("none.yaml") + ": no such file");

    Path bad = Files.writeString(tmp.resolve("bad.yaml"), "kind: Deployment\nmetadata: {name: web}\n"
        + "spec: {template: {spec: {containers: 3}}}\n");
    err = new StringWriter();
    assertThat(run(err, "kube-inject", "-f", bad.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("document 1 (Deployment web): containers: expected a list");

    Path alias = Files.writeString(tmp.resolve("alias.yaml"), "kind: Service\n---\nkind: ConfigMap\n"
        + "data:\n  base: &b hello\n  copy: *b\n");
    err = new StringWriter();
    assertThat(run(err, "kube-inject", "-f", alias.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("alias.yaml: line 6: YAML alias *b (expected: plain values;");

    Path template = Files.writeString(tmp.resolve("t.yaml"), "containers:\n- name: \"{{ nope }}\"\n");
    err = new StringWriter();
    assertThat(run(err, "kube-inject", "-f", bad.toString(), "--template", template.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("--template " + template + ": line 2: unknown value 'nope'");
  }

  @Test
  void serveRefusesBadFlagsAndCertificatesBeforeListening(@TempDir Path tmp) throws Exception {
    Path cert = Files.writeString(tmp.resolve("tls.crt"), "not a certificate");
    StringWriter err = new StringWriter();
    assertThat(run(err, "serve", "--port", "0", "--tlsCertFile", cert.toString(), "--tlsKeyFile", cert.toString(),
        "--namespacePolicy", "legacy=maybe")).isEqualTo(2);
    assertThat(err.toString()).contains("--namespacePolicy legacy=maybe (expected: enabled or disabled)");

    err = new StringWriter();
    assertThat(run(err, "serve", "--port", "0", "--tlsCertFile", cert.toString(), "--tlsKeyFile",
        cert.toString())).isEqualTo(2);
    assertThat(err.toString()).contains("injector: cannot use certificate " + cert, "PKCS#8");
  }
}
