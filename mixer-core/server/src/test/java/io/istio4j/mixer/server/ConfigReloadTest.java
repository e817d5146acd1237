package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A live server on an fs:// config directory: decisions follow edits, rejections show on /debug/config. */
class ConfigReloadTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static final String MANIFEST = """
      apiVersion: config.istio.io/v1alpha2
      kind: attributemanifest
      metadata: {name: istioproxy, namespace: istio-system}
      spec:
        attributes:
          destination.service: {valueType: STRING}
          source.user: {valueType: STRING}
      """;

  static String policy(String message) {
    return """
        apiVersion: config.istio.io/v1alpha2
        kind: testdeny
        metadata: {name: deny, namespace: istio-system}
        spec: {message: "%s"}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: nothing, namespace: istio-system}
        spec: {}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: nomallory, namespace: istio-system}
        spec:
          match: source.user == "mallory"
          actions: [{handler: deny.testdeny, instances: [nothing.checknothing]}]
        """.formatted(message);
  }

  static CheckResponse check(ManagedChannel ch, String user) {
    return MixerGrpc.newBlockingStub(ch).check(CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(
            Map.of("destination.service", "ratings.default.svc.cluster.local", "source.user", user), 167))
        .setGlobalWordCount(167)
        .build());
  }

  private static String get(MixerServer server, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.monitoringPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void decisionsFollowConfigEditsAndRejectionsAreListed(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("attributes.yaml"), MANIFEST);
    Files.writeString(dir.resolve("policy.yaml"), policy("go away"));
    ServerOptions options = ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir);
    try (MixerServer server = MixerServer.start(options)) {
      assertThat(get(server, "/readyz")).isEqualTo("ready: config snapshot 1 live\n");
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        CheckResponse denied = check(ch, "mallory");
        assertThat(denied.getPrecondition().getStatus().getCode()).isEqualTo(7);
        assertThat(denied.getPrecondition().getStatus().getMessage()).isEqualTo("deny.testdeny.istio-system:go away");
        assertThat(denied.getPrecondition().getValidUseCount()).isEqualTo(30);
        assertThat(check(ch, "alice").getPrecondition().getStatus().getCode()).isZero();

        Files.writeString(dir.resolve("policy.yaml"), policy("not you"));
        Files.writeString(dir.resolve("broken.yaml"), """
            apiVersion: config.istio.io/v1alpha2
            kind: checknothing
            metadata: {name: typo, namespace: istio-system}
            spec: {valu: "1"}
            """);
        long deadline = System.nanoTime() + 5_000_000_000L;
        String message = "";
        while (System.nanoTime() < deadline && !message.endsWith("not you")) {
          Thread.sleep(50);
          message = check(ch, "mallory").getPrecondition().getStatus().getMessage();
        }
        assertThat(message).isEqualTo("deny.testdeny.istio-system:not you");
      } finally {
        ch.shutdownNow();
      }
      String status = get(server, "/debug/config");
      assertThat(status).contains("\"name\" : \"typo.checknothing.istio-system\"");
      assertThat(status).contains("\"state\" : \"rejected\"");
      assertThat(status).contains("valu");
      assertThat(status).contains("\"version\" : 2");
      String metrics = get(server, "/metrics");
      assertThat(metrics).contains("mixer_config_objects{state=\"rejected\"} 1.0");
      assertThat(metrics).contains("mixer_config_snapshot_version 2.0");
      assertThat(metrics).containsPattern(
          "mixer_runtime_dispatches_total\\{adapter=\"testdeny\",handler=\"deny.testdeny.istio-system\","
              + "result=\"ok\",template=\"checknothing\"} [1-9]");
    }
  }

  @Test
  void validateListsEachProblemAndExitsNonZero(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("attributes.yaml"), MANIFEST);
    Files.writeString(dir.resolve("policy.yaml"), policy("go away").replace("source.user ==", "source.usr =="));
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Mixs()).execute("validate", dir.toString());
    } finally {
      System.setOut(original);
    }
    assertThat(code).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(
        "nomallory.rule.istio-system (policy.yaml#3): spec.match: unknown attribute source.usr\n");

    Files.writeString(dir.resolve("policy.yaml"), policy("go away"));
    assertThat(new CommandLine(new Mixs()).execute("validate", dir.toString())).isZero();
  }
}
