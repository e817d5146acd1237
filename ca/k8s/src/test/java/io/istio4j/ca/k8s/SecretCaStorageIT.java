package io.istio4j.ca.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.istio4j.ca.CaKeyCertBundle;
import io.istio4j.ca.CaStorage;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.SelfSignedCa;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient(crud = true)
class SecretCaStorageIT {

  KubernetesClient client;

  private static final SelfSignedCa.RootOptions OPTIONS =
      new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local");

  @Test
  void firstStartCreatesIstioCaSecretAndARestartReusesIt() throws Exception {
    CaKeyCertBundle first = SelfSignedCa.loadOrCreate(new SecretCaStorage(client, "istio-system"), OPTIONS);
    Secret secret = client.secrets().inNamespace("istio-system").withName("istio-ca-secret").get();
    assertThat(secret.getType()).isEqualTo("istio.io/ca-root");
    assertThat(secret.getData()).containsOnlyKeys("ca-cert.pem", "ca-key.pem");
    CaKeyCertBundle second = SelfSignedCa.loadOrCreate(new SecretCaStorage(client, "istio-system"), OPTIONS);
    assertThat(second.root()).isEqualTo(first.root());
  }

  @Test
  void aConcurrentFirstStartAdoptsTheWinnersRoot() throws Exception {
    SecretCaStorage storage = new SecretCaStorage(client, "istio-system");
    CaStorage.StoredCa winner = storage.store(SelfSignedCa.generate(OPTIONS));
    CaStorage.StoredCa loser = storage.store(SelfSignedCa.generate(OPTIONS));
    assertThat(loser.certPem()).isEqualTo(winner.certPem());
  }

  @Test
  void aSecretOfTheWrongTypeIsNamed() {
    client.secrets().inNamespace("istio-system").resource(new SecretBuilder().withNewMetadata()
        .withName("istio-ca-secret").withNamespace("istio-system").endMetadata().withType("Opaque")
        .withData(Map.of()).build()).create();
    assertThatThrownBy(() -> SelfSignedCa.loadOrCreate(new SecretCaStorage(client, "istio-system"), OPTIONS))
        .hasMessageContaining("Secret istio-system/istio-ca-secret").hasMessageContaining("istio.io/ca-root");
  }
}
