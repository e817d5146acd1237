package io.istio4j.ca.k8s;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.ca.SpiffeId;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The secret controller against fabric8's mock API server in CRUD mode. */
@EnableKubernetesMockClient(crud = true)
class SecretControllerIT {

  KubernetesClient client;

  @TempDir
  Path dir;

  private SecretController controller;
  private final AtomicInteger issued = new AtomicInteger();

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.close();
    }
  }

  private CertificateAuthority ca(String storage, Duration ttl) throws Exception {
    return new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir.resolve(storage)),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", ttl, ttl);
  }

  private void start(CertificateAuthority ca, List<String> namespaces) {
    controller = new SecretController(client, ca, KeyAlgorithm.ECDSA_P256, namespaces, Duration.ofMillis(500),
        api -> issued.incrementAndGet(), () -> { });
    controller.start();
    await(controller::hasSynced, "the controller to sync");
  }

  private void serviceAccount(String ns, String name) {
    client.serviceAccounts().inNamespace(ns)
        .resource(new ServiceAccountBuilder().withNewMetadata().withName(name).withNamespace(ns).endMetadata().build())
        .create();
  }

  private Secret secret(String ns, String name) {
    return client.secrets().inNamespace(ns).withName("istio." + name).get();
  }

  private static String data(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), UTF_8);
  }

  private static X509Certificate leaf(Secret s) {
    return Pem.readCertificates(data(s, SecretController.CERT_CHAIN), "cert-chain.pem").get(0);
  }

  @Test
  void eachServiceAccountGetsASecretWithItsSvid() throws Exception {
    CertificateAuthority ca = ca("ca", Duration.ofHours(24));
    serviceAccount("default", "before-start");
    start(ca, List.of());
    serviceAccount("bookinfo", "reviews");
    for (String[] sa : new String[][] {{"default", "before-start"}, {"bookinfo", "reviews"}}) {
      await(() -> secret(sa[0], sa[1]) != null, "Secret istio." + sa[1]);
      Secret s = secret(sa[0], sa[1]);
      assertThat(s.getType()).isEqualTo("istio.io/key-and-cert");
      assertThat(s.getMetadata().getAnnotations()).containsEntry("istio.io/service-account.name", sa[1]);
      assertThat(s.getData()).containsOnlyKeys("cert-chain.pem", "key.pem", "root-cert.pem");
      X509Certificate leaf = leaf(s);
      assertThat(leaf.getSubjectAlternativeNames())
          .containsExactly(List.of(6, SpiffeId.forServiceAccount("cluster.local", sa[0], sa[1]).toString()));
      leaf.verify(ca.bundle().root().getPublicKey());
      assertThat(data(s, "root-cert.pem")).isEqualTo(Pem.encode(ca.bundle().root()));
      assertThat(Pem.readPrivateKey(data(s, "key.pem"), "key.pem").getAlgorithm()).isEqualTo("EC");
    }
  }

  @Test
  void aDeletedSecretIsRecreatedAndADeletedAccountLosesItsSecret() throws Exception {
    start(ca("ca", Duration.ofHours(24)), List.of());
    serviceAccount("default", "sleep");
    await(() -> secret("default", "sleep") != null, "Secret istio.sleep");
    X509Certificate first = leaf(secret("default", "sleep"));

    client.secrets().inNamespace("default").withName("istio.sleep").delete();
    await(() -> secret("default", "sleep") != null, "Secret istio.sleep recreated");
    assertThat(leaf(secret("default", "sleep")).getSerialNumber()).isNotEqualTo(first.getSerialNumber());

    client.serviceAccounts().inNamespace("default").withName("sleep").delete();
    await(() -> secret("default", "sleep") == null, "Secret istio.sleep deleted");
  }

  @Test
  void aSecretFromAnotherRootOrPastHalfLifeIsRotated() throws Exception {
    CertificateAuthority old = ca("old", Duration.ofHours(24));
    CertificateAuthority current = ca("current", Duration.ofHours(24));
    // A Secret written by a CA with another root, as after the root changed.
    serviceAccount("default", "old-root");
    client.secrets().inNamespace("default").resource(secretFrom(old, "default", "old-root")).create();
    // A Secret whose certificate is past half its lifetime.
    CertificateAuthority shortLived = new CertificateAuthority(current.bundle(), "cluster.local",
        Duration.ofSeconds(2), Duration.ofSeconds(2));
    serviceAccount("default", "aging");
    client.secrets().inNamespace("default").resource(secretFrom(shortLived, "default", "aging")).create();
    Thread.sleep(1100); // past half of the two seconds

    start(current, List.of());
    await(() -> data(secret("default", "old-root"), "root-cert.pem").equals(Pem.encode(current.bundle().root())),
        "the old-root Secret rotated to the current root");
    leaf(secret("default", "old-root")).verify(current.bundle().root().getPublicKey());
    await(() -> leaf(secret("default", "aging")).getNotAfter().toInstant()
        .isAfter(Instant.now().plus(Duration.ofHours(1))), "the aging Secret rotated");
  }

  @Test
  void onlySelectedNamespacesGetSecrets() throws Exception {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("mesh").endMetadata().build()).create();
    start(ca("ca", Duration.ofHours(24)), List.of("mesh"));
    serviceAccount("elsewhere", "ignored");
    serviceAccount("mesh", "served");
    await(() -> secret("mesh", "served") != null, "Secret istio.served");
    assertThat(secret("elsewhere", "ignored")).isNull();
  }

  private static Secret secretFrom(CertificateAuthority ca, String ns, String sa) {
    var id = ca.issue(SpiffeId.forServiceAccount("cluster.local", ns, sa), KeyAlgorithm.ECDSA_P256, Duration.ZERO);
    Base64.Encoder b64 = Base64.getEncoder();
    return new SecretBuilder().withNewMetadata().withName("istio." + sa).withNamespace(ns)
        .withAnnotations(Map.of(SecretController.SA_ANNOTATION, sa)).endMetadata()
        .withType(SecretController.SECRET_TYPE)
        .withData(Map.of("cert-chain.pem", b64.encodeToString(id.certificate().certChainPem().getBytes(UTF_8)),
            "key.pem", b64.encodeToString(id.keyPem().getBytes(UTF_8)),
            "root-cert.pem", b64.encodeToString(id.certificate().rootPem().getBytes(UTF_8))))
        .build();
  }

  static void await(Supplier<Boolean> condition, String what) {
    for (int i = 0; i < 300; i++) {
      try {
        if (condition.get()) {
          return;
        }
      } catch (RuntimeException e) {
        // not there yet
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
    throw new AssertionError("timed out waiting for " + what);
  }
}
