package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.model.ConfigKind;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code k8s://}'s Ingress and Secret watching against fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class KubernetesIngressIT {
  static KubernetesClient client;
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  private KubernetesConfigStore store;

  @BeforeEach
  void start() throws InterruptedException {
    client.network().v1().ingresses().inAnyNamespace().delete();
    client.secrets().inAnyNamespace().delete();
    store = new KubernetesConfigStore(client, null, new ConfigParser("default", "cluster.local"), false);
    store.addListener(e -> events.add(e.type() + " " + e.config().key()));
    store.start();
    for (int i = 0; i < 3000 && !store.hasSynced(); i++) {
      Thread.sleep(10);
    }
    assertThat(store.hasSynced()).isTrue();
  }

  @AfterEach
  void close() {
    store.close();
  }

  private String nextEvent() throws InterruptedException {
    String e = events.poll(30, TimeUnit.SECONDS);
    assertThat(e).as("an event").isNotNull();
    return e;
  }

  private static Ingress ingress(String cls, String path, int port) {
    return Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: shop, namespace: web}
        spec:
          ingressClassName: %s
          tls: [{hosts: [shop.example.com], secretName: shop-tls}]
          rules:
          - host: shop.example.com
            http:
              paths:
              - {path: %s, pathType: Prefix, backend: {service: {name: front, port: {number: %d}}}}
              - {path: /admin, pathType: Exact, backend: {service: {name: admin, port: {name: http}}}}
        """.formatted(cls, path, port), Ingress.class);
  }

  private static Secret secret(String crt, String key) {
    Base64.Encoder b64 = Base64.getEncoder();
    return new SecretBuilder().withNewMetadata().withName("shop-tls").withNamespace("web").endMetadata()
        .withType("kubernetes.io/tls")
        .withData(Map.of("tls.crt", b64.encodeToString(crt.getBytes(StandardCharsets.US_ASCII)),
            "tls.key", b64.encodeToString(key.getBytes(StandardCharsets.US_ASCII))))
        .build();
  }

  @Test
  void ingressAndItsSecretAreCreatedEditedAndDeleted() throws Exception {
    String crt = IngressConversionTest.resource("bookinfo.crt");
    String key = IngressConversionTest.resource("bookinfo.key");
    client.secrets().inNamespace("web").resource(secret(crt, key)).create();
    for (int i = 0; i < 3000 && store.tlsSecret("shop-tls.web").isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(store.tlsSecret("shop-tls.web")).hasValueSatisfying(s -> assertThat(s.certificateChain()).isEqualTo(crt));
    assertThat(events).as("no rule uses the secret yet").isEmpty();
    client.network().v1().ingresses().inNamespace("web").resource(ingress("istio", "/shop", 80)).create();
    assertThat(nextEvent()).isIn("ADD ingress-rule/web/shop-1-1", "ADD ingress-rule/web/shop-1-2");
    assertThat(nextEvent()).isIn("ADD ingress-rule/web/shop-1-1", "ADD ingress-rule/web/shop-1-2");
    IngressRule rule = store.get(ConfigKind.INGRESS_RULE, "shop-1-1", "web").orElseThrow().spec(IngressRule.class);
    assertThat(rule.getTlsSecret()).isEqualTo("shop-tls.web");
    assertThat(rule.getMatch().getRequest().getHeadersMap().get("uri").getPrefix()).isEqualTo("/shop");

    // Edit the Ingress: only the changed rule is updated.
    client.network().v1().ingresses().inNamespace("web").resource(ingress("istio", "/store", 8080)).update();
    assertThat(nextEvent()).isEqualTo("UPDATE ingress-rule/web/shop-1-1");
    assertThat(store.get(ConfigKind.INGRESS_RULE, "shop-1-1", "web").orElseThrow().spec(IngressRule.class)
        .getDestinationPort()).isEqualTo(8080);

    // A new certificate: the rules naming the secret are updated.
    client.secrets().inNamespace("web").resource(secret(IngressConversionTest.resource("other.crt"),
        IngressConversionTest.resource("other.key"))).update();
    assertThat(nextEvent()).isIn("UPDATE ingress-rule/web/shop-1-1", "UPDATE ingress-rule/web/shop-1-2");
    assertThat(nextEvent()).isIn("UPDATE ingress-rule/web/shop-1-1", "UPDATE ingress-rule/web/shop-1-2");
    assertThat(store.tlsSecret("shop-tls.web").orElseThrow().certificateChain())
        .isEqualTo(IngressConversionTest.resource("other.crt"));

    // A key that does not match: refused, reported, the rules updated (their proxy loses the host's TLS).
    client.secrets().inNamespace("web").resource(secret(crt, IngressConversionTest.resource("other.key"))).update();
    nextEvent();
    nextEvent();
    assertThat(store.tlsSecret("shop-tls.web")).isEmpty();
    assertThat(store.statuses()).anySatisfy(s -> {
      assertThat(s.key()).isEqualTo("secret/web/shop-tls");
      assertThat(s.state()).isEqualTo(ConfigObjectStatus.State.REJECTED);
      assertThat(s.errors().get(0)).contains("does not belong to the first certificate");
    });

    // Another class: the rules go.
    client.network().v1().ingresses().inNamespace("web").resource(ingress("nginx", "/store", 8080)).update();
    assertThat(nextEvent()).isIn("DELETE ingress-rule/web/shop-1-1", "DELETE ingress-rule/web/shop-1-2");
    assertThat(nextEvent()).isIn("DELETE ingress-rule/web/shop-1-1", "DELETE ingress-rule/web/shop-1-2");
    client.network().v1().ingresses().inNamespace("web").resource(ingress("istio", "/store", 8080)).update();
    nextEvent();
    nextEvent();

    // An Ingress whose name extends this one's: deleting "shop" must leave "shop-x" alone.
    Ingress shopX = ingress("istio", "/x", 80);
    shopX.getMetadata().setName("shop-x");
    client.network().v1().ingresses().inNamespace("web").resource(shopX).create();
    nextEvent();
    nextEvent();

    client.secrets().inNamespace("web").withName("shop-tls").delete();
    client.network().v1().ingresses().inNamespace("web").withName("shop").delete();
    for (int i = 0; i < 3000 && store.list(ConfigKind.INGRESS_RULE, "").size() != 2; i++) {
      Thread.sleep(10);
    }
    assertThat(store.list(ConfigKind.INGRESS_RULE, "")).extracting(c -> c.meta().name())
        .containsExactly("shop-x-1-1", "shop-x-1-2");
    assertThat(store.tlsSecret("shop-tls.web")).isEmpty();
    assertThat(store.statuses()).extracting(ConfigObjectStatus::key)
        .containsExactly("ingress-rule/web/shop-x-1-1", "ingress-rule/web/shop-x-1-2");
  }

  @Test
  void ingressRulesAreNotWritableHere() {
    assertThat(store.kinds()).contains(ConfigKind.INGRESS_RULE);
    assertThatThrownBy(() -> store.delete(ConfigKind.INGRESS_RULE, "shop-1-1", "web"))
        .hasMessageContaining("this store does not hold ingress-rule");
  }
}
