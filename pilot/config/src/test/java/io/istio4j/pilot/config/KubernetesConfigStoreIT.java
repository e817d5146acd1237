package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStoreException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code k8s://} against fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class KubernetesConfigStoreIT {
  static KubernetesClient client;
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  private KubernetesConfigStore store;

  @BeforeEach
  void installCrdsAndStart() throws Exception {
    List<HasMetadata> crds = client.load(new ByteArrayInputStream(
        KubernetesConfigStore.crdYaml().getBytes(StandardCharsets.UTF_8))).items();
    assertThat(crds).extracting(c -> c.getMetadata().getName()).containsExactly(
        "routerules.config.istio.io", "destinationpolicies.config.istio.io", "egressrules.config.istio.io");
    for (HasMetadata crd : crds) {
      client.apiextensions().v1().customResourceDefinitions().resource((CustomResourceDefinition) crd).createOr(c -> c.update());
    }
    for (ConfigKind kind : List.of(ConfigKind.ROUTE_RULE, ConfigKind.DESTINATION_POLICY, ConfigKind.EGRESS_RULE)) {
      // the mock server lives as long as the class: start every test with no objects
      client.genericKubernetesResources(KubernetesConfigStore.context(kind)).inAnyNamespace().delete();
    }
    store = new KubernetesConfigStore(client, null, new ConfigParser("default", "cluster.local"), false);
    store.addListener(e -> events.add(e.type() + " " + e.config().key()));
  }

  @AfterEach
  void close() {
    store.close();
  }

  private void startAndSync() throws InterruptedException {
    store.start();
    for (int i = 0; i < 3000 && !store.hasSynced(); i++) {
      Thread.sleep(10);
    }
    assertThat(store.hasSynced()).isTrue();
  }

  private String nextEvent() throws InterruptedException {
    String e = events.poll(30, TimeUnit.SECONDS);
    assertThat(e).as("an event").isNotNull();
    return e;
  }

  private static GenericKubernetesResource resource(String yaml) {
    return Serialization.unmarshal(yaml, GenericKubernetesResource.class);
  }

  private static String rule(String name, String ns, int weightV1) {
    return """
        apiVersion: config.istio.io/v1alpha2
        kind: RouteRule
        metadata: {name: %s, namespace: %s}
        spec:
          destination: {name: reviews}
          route:
          - {labels: {version: v1}, weight: %d}
          - {labels: {version: v2}, weight: %d}
        """.formatted(name, ns, weightV1, 100 - weightV1);
  }

  private void apply(ConfigKind kind, String yaml) {
    client.genericKubernetesResources(KubernetesConfigStore.context(kind)).resource(resource(yaml))
        .createOr(r -> r.update());
  }

  @Test
  void objectsPresentAtStartAreLoadedBeforeSync() throws Exception {
    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 50));
    apply(ConfigKind.EGRESS_RULE, """
        apiVersion: config.istio.io/v1alpha2
        kind: EgressRule
        metadata: {name: google, namespace: prod}
        spec: {destination: {service: "*.google.com"}, ports: [{port: 443, protocol: https}]}
        """);
    startAndSync();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).extracting(Config::key).containsExactly("route-rule/default/a");
    assertThat(store.list(ConfigKind.EGRESS_RULE, "prod")).hasSize(1);
    Config a = store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow();
    assertThat(a.meta().resourceVersion()).isNotEmpty();
    assertThat(a.meta().domain()).isEqualTo("cluster.local");
    List<String> seen = new ArrayList<>(List.of(nextEvent(), nextEvent()));
    assertThat(seen).containsExactlyInAnyOrder("ADD route-rule/default/a", "ADD egress-rule/prod/google");
  }

  @Test
  void createUpdateDeleteMadeElsewhereReachListeners() throws Exception {
    startAndSync();
    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 50));
    assertThat(nextEvent()).isEqualTo("ADD route-rule/default/a");
    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 80));
    assertThat(nextEvent()).isEqualTo("UPDATE route-rule/default/a");
    assertThat(store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow().spec(RouteRule.class).getRoute(0)
        .getWeight()).isEqualTo(80);
    client.genericKubernetesResources(KubernetesConfigStore.context(ConfigKind.ROUTE_RULE)).inNamespace("default")
        .withName("a").delete();
    assertThat(nextEvent()).isEqualTo("DELETE route-rule/default/a");
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).isEmpty();
  }

  @Test
  void invalidObjectIsSkippedWithItsErrorAndTheLastValidVersionStays() throws Exception {
    startAndSync();
    apply(ConfigKind.ROUTE_RULE, rule("bad", "default", 150));
    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 50));
    assertThat(nextEvent()).isEqualTo("ADD route-rule/default/a"); // bad was skipped
    assertThat(store.get(ConfigKind.ROUTE_RULE, "bad", "default")).isEmpty();
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe).containsExactly(
        "route-rule/default/a (k8s:routerules/default/a): VALID",
        "route-rule/default/bad (k8s:routerules/default/bad): REJECTED: k8s:routerules/default/bad: "
            + "route-rule default/bad: spec.route[0].weight: 150 must be in range 0..100; k8s:routerules/default/bad: "
            + "route-rule default/bad: spec.route[1].weight: -50 must be in range 0..100");

    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 150).replace("weight: -50}", "weight: -50, color: red}"));
    apply(ConfigKind.ROUTE_RULE, rule("marker", "default", 10));
    assertThat(nextEvent()).isEqualTo("ADD route-rule/default/marker"); // no event for a's bad edit
    assertThat(store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow().spec(RouteRule.class).getRoute(0)
        .getWeight()).isEqualTo(50);
    ConfigObjectStatus a = store.statuses().get(0);
    assertThat(a.state()).isEqualTo(ConfigObjectStatus.State.STALE);
    assertThat(a.errors()).anyMatch(e -> e.endsWith("spec.route[1].color: unknown field (DestinationWeight has: "
        + "destination, labels, weight)"));
  }

  @Test
  void writesGoThroughTheApiServer() throws Exception {
    startAndSync();
    Config config = new ConfigParser().parse("r.yaml", rule("w", "default", 30)).documents().get(0).config();
    String version = store.create(config);
    assertThat(version).isNotEmpty();
    assertThat(nextEvent()).isEqualTo("ADD route-rule/default/w");
    assertThatThrownBy(() -> store.create(config)).isInstanceOf(ConfigStoreException.class)
        .hasMessage("route-rule/default/w: already exists");

    Config stored = store.get(ConfigKind.ROUTE_RULE, "w", "default").orElseThrow();
    RouteRule changed = stored.spec(RouteRule.class).toBuilder()
        .setRoute(0, stored.spec(RouteRule.class).getRoute(0).toBuilder().setWeight(60))
        .setRoute(1, stored.spec(RouteRule.class).getRoute(1).toBuilder().setWeight(40)).build();
    String next = store.update(new Config(stored.meta(), changed));
    assertThat(next).isNotEqualTo(stored.meta().resourceVersion());
    assertThat(nextEvent()).isEqualTo("UPDATE route-rule/default/w");
    assertThatThrownBy(() -> store.update(new Config(stored.meta(), changed))).isInstanceOf(ConfigStoreException.class)
        .hasMessageContaining("route-rule/default/w: old revision");

    RouteRule invalid = changed.toBuilder().setRoute(0, changed.getRoute(0).toBuilder().setWeight(99)).build();
    assertThatThrownBy(() -> store.create(new Config(stored.meta().withResourceVersion(""), invalid)))
        .isInstanceOf(ConfigStoreException.class)
        .hasMessage("route-rule default/w: spec.route: route weights total 139 (must total 100)");

    store.delete(ConfigKind.ROUTE_RULE, "w", "default");
    assertThat(nextEvent()).isEqualTo("DELETE route-rule/default/w");
    assertThatThrownBy(() -> store.delete(ConfigKind.ROUTE_RULE, "w", "default"))
        .isInstanceOf(ConfigStoreException.class).hasMessage("route-rule/default/w: does not exist");
  }

  @Test
  void oneNamespaceOnly() throws Exception {
    store.close();
    store = new KubernetesConfigStore(client, "prod", new ConfigParser(), false);
    store.addListener(e -> events.add(e.type() + " " + e.config().key()));
    apply(ConfigKind.ROUTE_RULE, rule("a", "default", 50));
    apply(ConfigKind.ROUTE_RULE, rule("b", "prod", 50));
    startAndSync();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).extracting(Config::key).containsExactly("route-rule/prod/b");
    assertThat(store.url()).isEqualTo("k8s://?namespace=prod");
  }

}
