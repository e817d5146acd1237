package io.istio4j.ca.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.istio4j.ca.Pem;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/istio-ca against fabric8's mock API server (CRUD mode) through a kubeconfig: the root in
 * istio-ca-secret, an istio.&lt;sa&gt; Secret per ServiceAccount, /readyz after the first sync.
 */
class ServeOnKubernetesIT {

  private static final Path BIN = Path.of("").toAbsolutePath().resolve("../../bin").normalize();

  @TempDir
  Path dir;

  private KubernetesMockServer server;
  private KubernetesClient client;
  private Process ca;

  @BeforeEach
  void startApiServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(List.of()), false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (ca != null) {
      ca.destroy();
      if (!ca.waitFor(30, TimeUnit.SECONDS)) {
        ca.destroyForcibly();
      }
    }
    client.close();
    server.destroy();
  }

  @Test
  void rootInIstioCaSecretAndASecretPerServiceAccount() throws Exception {
    client.serviceAccounts().inNamespace("default").resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("sleep").withNamespace("default").endMetadata().build()).create();
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(kubeconfig, """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster:
            server: %s
        contexts:
        - name: mock
          context:
            cluster: mock
            user: mock
            namespace: default
        current-context: mock
        users:
        - name: mock
          user:
            token: test
        """.formatted(client.getMasterUrl().toString()));
    int monitoring;
    try (ServerSocket s = new ServerSocket(0)) {
      monitoring = s.getLocalPort();
    }
    ca = new ProcessBuilder(BIN.resolve("istio-ca").toString(), "--storage-secret", "--kube-config",
        kubeconfig.toString(), "--secret-controller", "--grpc-port", "0", "--monitoring-port",
        String.valueOf(monitoring), "--monitoring-address", "127.0.0.1")
        .redirectErrorStream(true).redirectOutput(dir.resolve("ca.log").toFile()).start();

    await(() -> ready(monitoring), "/readyz");
    Secret root = client.secrets().inNamespace("istio-system").withName("istio-ca-secret").get();
    assertThat(root.getType()).isEqualTo("istio.io/ca-root");
    String rootPem = decode(root.getData().get("ca-cert.pem"));
    await(() -> client.secrets().inNamespace("default").withName("istio.sleep").get() != null, "Secret istio.sleep");
    Secret sleep = client.secrets().inNamespace("default").withName("istio.sleep").get();
    assertThat(decode(sleep.getData().get("root-cert.pem"))).isEqualTo(rootPem);
    Pem.readCertificates(decode(sleep.getData().get("cert-chain.pem")), "chain").get(0)
        .verify(Pem.readCertificate(rootPem, "root").getPublicKey());
  }

  private static String decode(String b64) {
    return new String(Base64.getDecoder().decode(b64), UTF_8);
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

  private void await(BooleanSupplier condition, String what) throws Exception {
    for (int i = 0; i < 1200; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      if (!ca.isAlive()) {
        throw new AssertionError("istio-ca exited with " + ca.exitValue() + ":\n" + Files.readString(dir.resolve("ca.log")));
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out waiting for " + what + ":\n" + Files.readString(dir.resolve("ca.log")));
  }
}
