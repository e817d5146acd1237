package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/sidecar-injector serve} as its own process: serves the example's config, stops cleanly on SIGTERM. */
class SidecarInjectorProcessIT {

  private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();
  private static final Path EXAMPLE = ROOT.resolve("examples/sidecar-injection");

  @Test
  void theLauncherServesReviewsAndLogsItsCountsOnSigterm(@TempDir Path dir) throws Exception {
    TestCertificate tls = TestCertificate.write(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = dir.resolve("injector.log");
    Process injector = new ProcessBuilder(ROOT.resolve("bin/sidecar-injector").toString(), "serve",
        "--host", "127.0.0.1", "--port", String.valueOf(port), "--tlsCertFile", tls.certFile().toString(),
        "--tlsKeyFile", tls.keyFile().toString(), "--meshConfig", EXAMPLE.resolve("mesh.yaml").toString(),
        "--injectConfig", EXAMPLE.resolve("inject-config.yaml").toString(), "--namespacePolicy", "legacy=disabled")
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    HttpClient http = HttpClient.newBuilder().sslContext(tls.trust()).build();
    try {
      awaitHealthy(http, port, injector, log);
      String review = """
          {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",
           "kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"%s",
           "object":{"metadata":{"generateName":"reviews-v1-","labels":{"app":"reviews"}},
                     "spec":{"serviceAccountName":"bookinfo-reviews","containers":[{"name":"reviews","image":"r"}]}}}}
          """;
      JsonNode injected = post(http, port, review.formatted("default"));
      String patch = new String(Base64.getDecoder().decode(injected.path("patch").asText()), UTF_8);
      assertThat(patch).contains("istio.bookinfo-reviews", "istio-pilot.istio-system:15010", "\"reviews\"",
          "docker.io/istio/proxy:0.2.12");
      assertThat(post(http, port, review.formatted("legacy")).has("patch")).isFalse();
    } finally {
      injector.destroy(); // SIGTERM
      assertThat(injector.waitFor(30, TimeUnit.SECONDS)).as("stopped on SIGTERM").isTrue();
    }
    assertThat(Files.readString(log)).contains("serving AdmissionReviews on https port " + port)
        .contains("stopping; 1 pods injected, 1 left alone, 0 refused");
  }

  private static JsonNode post(HttpClient http, int port, String review) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/inject"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(review)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body()).path("response");
  }

  private static void awaitHealthy(HttpClient http, int port, Process injector, Path log) throws Exception {
    for (int i = 0; i < 600; i++) {
      assertThat(injector.isAlive()).as("sidecar-injector exited:\n" + Files.readString(log)).isTrue();
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port
            + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("not serving within 60 s:\n" + Files.readString(log));
  }
}
