package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.FileRegistryTest.await;
import static io.istio4j.pilot.registry.KubeObjects.endpoints;
import static io.istio4j.pilot.registry.KubeObjects.node;
import static io.istio4j.pilot.registry.KubeObjects.pod;
import static io.istio4j.pilot.registry.KubeObjects.port;
import static io.istio4j.pilot.registry.KubeObjects.service;
import static io.istio4j.pilot.registry.KubeObjects.zoneLabels;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.RegistryEvent.Kind;
import io.istio4j.pilot.model.ServiceInstance;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kubernetes registry against fabric8's mock API server in CRUD mode. */
class KubernetesRegistryIT {
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final String RATINGS = "ratings.default.svc.cluster.local";

  private KubernetesMockServer server;
  private KubernetesClient client;
  private KubernetesRegistry registry;
  private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();

  @BeforeEach
  void startServer() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    if (registry != null) {
      registry.close();
    }
    client.close();
    server.destroy();
  }

  private KubernetesRegistry start(KubernetesRegistry.Options options) throws InterruptedException {
    registry = new KubernetesRegistry(client, false, options);
    registry.addListener(events::add);
    registry.start();
    await(registry::hasSynced);
    return registry;
  }

  private void awaitEvent(RegistryEvent e) throws InterruptedException {
    await(() -> events.contains(e));
  }

  private static RegistryEvent event(Kind kind, EventType type, String hostname) {
    return new RegistryEvent(KubernetesRegistry.NAME, kind, type, hostname);
  }

  @Test
  void followsServicesEndpointsPodsAndNodes() throws Exception {
    // Objects present before the registry starts come with the initial listing.
    client.nodes().resource(node("node-a", zoneLabels("us-east1", "us-east1-b"))).create();
    client.pods().inNamespace("default").resource(
        pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1"))).create();
    client.services().inNamespace("default").resource(service("default", "reviews", "10.0.0.3", port("http", 9080))).create();
    client.endpoints().inNamespace("default").resource(
        endpoints("default", "reviews", new String[] {"10.1.0.1"}, "http", 9080)).create();
    client.services().inNamespace("default").resource(service("default", "ratings", "10.0.0.4", port("http", 9080))).create();
    client.services().inNamespace("kube-system").resource(service("kube-system", "kube-dns", "10.0.0.10", port("dns", 53))).create();

    start(KubernetesRegistry.Options.of("cluster.local"));
    assertThat(registry.services()).extracting(s -> s.hostname()).containsExactly(RATINGS, REVIEWS);
    List<ServiceInstance> list = registry.instances(REVIEWS, Set.of(), LabelsCollection.ALL);
    assertThat(list).hasSize(1);
    ServiceInstance i = list.get(0);
    assertThat(i.endpoint().address()).isEqualTo("10.1.0.1");
    assertThat(i.labels()).isEqualTo(Labels.of("app", "reviews", "version", "v1"));
    assertThat(i.availabilityZone()).isEqualTo("us-east1/us-east1-b");
    assertThat(i.serviceAccount()).isEqualTo("spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    assertThat(events).contains(event(Kind.SERVICE, EventType.ADD, REVIEWS), event(Kind.INSTANCES, EventType.ADD, REVIEWS));

    // Scale reviews: one INSTANCES event, for reviews only.
    events.clear();
    client.endpoints().inNamespace("default").resource(
        endpoints("default", "reviews", new String[] {"10.1.0.1", "10.1.0.2"}, "http", 9080)).update();
    awaitEvent(event(Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    client.services().inNamespace("default").resource(service("default", "sentinel", "10.0.0.99", port("http", 80))).create();
    awaitEvent(event(Kind.SERVICE, EventType.ADD, "sentinel.default.svc.cluster.local"));
    assertThat(events).containsExactly(
        event(Kind.INSTANCES, EventType.UPDATE, REVIEWS),
        event(Kind.SERVICE, EventType.ADD, "sentinel.default.svc.cluster.local"));
    assertThat(registry.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).hasSize(2);

    // The new address's pod shows up: its instance gains labels.
    events.clear();
    client.pods().inNamespace("default").resource(
        pod("default", "reviews-v2", "10.1.0.2", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v2"))).create();
    awaitEvent(event(Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(registry.instances(REVIEWS, Set.of(), LabelsCollection.of(Labels.of("version", "v2")))).hasSize(1);

    // The node moves zone: instances on it follow.
    events.clear();
    client.nodes().resource(new NodeBuilder(node("node-a", zoneLabels("us-west1", "us-west1-a"))).build()).update();
    awaitEvent(event(Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(registry.hostInstances(List.of("10.1.0.2")).get(0).availabilityZone()).isEqualTo("us-west1/us-west1-a");

    // Delete.
    events.clear();
    client.services().inNamespace("default").withName("reviews").delete();
    awaitEvent(event(Kind.SERVICE, EventType.DELETE, REVIEWS));
    assertThat(registry.service(REVIEWS)).isEmpty();
    assertThat(registry.hostInstances(List.of("10.1.0.1", "10.1.0.2"))).isEmpty();
    client.endpoints().inNamespace("default").withName("reviews").delete();
    client.pods().inNamespace("default").withName("reviews-v1").delete();

    Map<String, Object> status = registry.status();
    assertThat(status).containsEntry("synced", true);
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> informers = (Map<String, Map<String, Object>>) status.get("informers");
    assertThat(informers).containsOnlyKeys("Service", "Endpoints", "Pod", "Node");
    assertThat(informers.get("Service")).containsEntry("synced", true).containsEntry("errors", 0L);
  }

  @Test
  void watchesOnlyTheChosenNamespace() throws Exception {
    client.services().inNamespace("default").resource(service("default", "reviews", "10.0.0.3", port("http", 9080))).create();
    client.services().inNamespace("prod").resource(service("prod", "reviews", "10.0.1.3", port("http", 9080))).create();
    start(new KubernetesRegistry.Options("cluster.local", "prod", Duration.ZERO));
    assertThat(registry.services()).extracting(s -> s.hostname()).containsExactly("reviews.prod.svc.cluster.local");
  }

  @Test
  void keepsItsViewWhenTheApiServerGoesAway() throws Exception {
    client.services().inNamespace("default").resource(service("default", "reviews", "10.0.0.3", port("http", 9080))).create();
    start(KubernetesRegistry.Options.of("cluster.local"));
    assertThat(registry.service(REVIEWS)).isPresent();
    server.destroy();
    await(() -> {
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> informers = (Map<String, Map<String, Object>>) registry.status().get("informers");
      return (Long) informers.get("Service").get("errors") > 0 || !(Boolean) informers.get("Service").get("watching");
    });
    assertThat(registry.service(REVIEWS)).isPresent();
    assertThat(registry.hasSynced()).isTrue();
  }

  @Test
  void servesWithoutZonesWhenNodesAreForbidden() throws Exception {
    server.destroy();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        if (request.getPath().startsWith("/api/v1/nodes")) {
          return new MockResponse().setResponseCode(403).setBody(
              "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                  + "\"message\":\"nodes is forbidden: User \\\"system:serviceaccount:istio:pilot\\\" cannot list nodes\"}");
        }
        return super.dispatch(request);
      }
    }, false);
    server.init();
    client.close();
    client = server.createClient();
    client.pods().inNamespace("default").resource(
        pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews"))).create();
    client.services().inNamespace("default").resource(service("default", "reviews", "10.0.0.3", port("http", 9080))).create();
    client.endpoints().inNamespace("default").resource(
        endpoints("default", "reviews", new String[] {"10.1.0.1"}, "http", 9080)).create();
    start(KubernetesRegistry.Options.of("cluster.local"));
    ServiceInstance i = registry.instances(REVIEWS, Set.of(), LabelsCollection.ALL).get(0);
    assertThat(i.labels()).isEqualTo(Labels.of("app", "reviews"));
    assertThat(i.availabilityZone()).isNull();
    assertThat(registry.status()).containsEntry("nodesUnavailable", true);
  }

  @Test
  void anUnreachableApiServerIsRetriedAndReported() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    KubernetesClient down = new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + port).withRequestRetryBackoffLimit(0).build())
        .build();
    try (KubernetesRegistry r = new KubernetesRegistry(down, true, KubernetesRegistry.Options.of("cluster.local"))) {
      r.start();
      await(() -> {
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> informers = (Map<String, Map<String, Object>>) r.status().get("informers");
        return (Long) informers.get("Service").get("errors") > 0;
      });
      assertThat(r.hasSynced()).isFalse();
      assertThat(r.services()).isEmpty();
    }
  }
}
