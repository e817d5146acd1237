package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Namespaces' istio-injection labels from fabric8's mock API server (CRUD mode), used by the webhook's handler. */
class KubernetesNamespaceLabelsIT {

  private static final ObjectMapper JSON = new ObjectMapper();

  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void startServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  private static Namespace namespace(String name, Map<String, String> labels) {
    return new NamespaceBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata().build();
  }

  /** Polls until the condition holds; fails after a generous bound (no timing is asserted). */
  private static void await(BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 600 && !condition.getAsBoolean(); i++) {
      Thread.sleep(50);
    }
    assertThat(condition.getAsBoolean()).as("condition within 30 s").isTrue();
  }

  private static boolean injected(AdmissionHandler handler, String namespace) throws Exception {
    String review = """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1",
         "kind":{"group":"","version":"v1","kind":"Pod"},"operation":"CREATE","namespace":"%s",
         "object":{"metadata":{"generateName":"web-"},"spec":{"containers":[{"name":"web","image":"web"}]}}}}
        """.formatted(namespace);
    JsonNode answer = JSON.readTree(handler.review(review.getBytes(UTF_8)));
    return answer.path("response").has("patch");
  }

  @Test
  void theWebhookFollowsNamespaceLabelsAsTheyChange() throws Exception {
    client.namespaces().resource(namespace("legacy", Map.of("istio-injection", "disabled"))).create();
    client.namespaces().resource(namespace("bookinfo", Map.of("istio-injection", "enabled"))).create();
    try (KubernetesNamespaceLabels labels = KubernetesNamespaceLabels.start(client, Duration.ofSeconds(30))) {
      AdmissionHandler handler = new AdmissionHandler(
          Fixtures.injector(InjectorConfig.defaults().withPolicy(InjectionPolicy.DISABLED)), labels);

      assertThat(labels.labels("legacy")).containsEntry("istio-injection", "disabled");
      assertThat(labels.labels("unknown")).isNull();
      assertThat(injected(handler, "bookinfo")).isTrue();
      assertThat(injected(handler, "legacy")).isFalse();
      assertThat(injected(handler, "unknown")).isFalse(); // the injector's policy: disabled

      client.namespaces().withName("legacy").edit(n -> namespace("legacy", Map.of("istio-injection", "enabled")));
      client.namespaces().resource(namespace("late", Map.of("istio-injection", "enabled"))).create();
      await(() -> "enabled".equals(labels.labels("legacy").get("istio-injection")) && labels.labels("late") != null);

      assertThat(injected(handler, "legacy")).isTrue();
      assertThat(injected(handler, "late")).isTrue();
    }
  }

  @Test
  void anUnreachableApiServerStopsStartupWithTheReason() {
    try (KubernetesClient unreachable = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl("https://127.0.0.1:1").withRequestRetryBackoffLimit(0).build()).build()) {
      assertThatThrownBy(() -> KubernetesNamespaceLabels.start(unreachable, Duration.ofSeconds(5)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("--watchNamespaces: ");
    }
  }
}
