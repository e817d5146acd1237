package io.istio4j.pilot.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistriesTest {
  @TempDir Path dir;

  @Test
  void opensFileRegistries() {
    try (AggregateRegistry r = Registries.open("file://" + dir, "cluster.local")) {
      assertThat(r.registries()).hasSize(1);
      assertThat(r.registries().get(0)).isInstanceOf(FileRegistry.class);
      assertThat(r.registries().get(0).name()).isEqualTo("file:" + dir);
    }
  }

  @Test
  void opensKubernetesInEitherSpellingAfterFiles() {
    try (KubernetesClient client = new KubernetesClientBuilder().build()) {
      RegistryOptions options = RegistryOptions.of("cluster.local").withKubernetesClient(() -> client);
      for (String spelling : new String[] {"Kubernetes", "kubernetes"}) {
        try (AggregateRegistry r = Registries.open("file://" + dir + " , " + spelling, options)) {
          assertThat(r.registries()).hasSize(2);
          assertThat(r.registries().get(1)).isInstanceOf(KubernetesRegistry.class);
        }
      }
    }
  }

  @Test
  void opensEurekaAndConsulThroughTheProviderInterface() {
    try (AggregateRegistry r = Registries.open("eureka://127.0.0.1:8761, consul://127.0.0.1:8500?wait=30s,"
        + "Eureka://10.0.0.1:8080/eureka?interval=500ms&timeout=5s&syncTimeout=0s&maxBytes=16m", "cluster.local")) {
      assertThat(r.registries()).hasSize(3);
      assertThat(r.registries().get(0)).isInstanceOf(EurekaRegistry.class);
      assertThat(r.registries().get(0).name()).isEqualTo("eureka:127.0.0.1:8761");
      assertThat(r.registries().get(1)).isInstanceOf(ConsulRegistry.class);
      assertThat(r.registries().get(1).name()).isEqualTo("consul:127.0.0.1:8500");
      assertThat(r.registries().get(2).name()).isEqualTo("eureka:10.0.0.1:8080/eureka");
      assertThat(((EurekaRegistry) r.registries().get(2)).status()).containsEntry("appsPath", "/eureka/apps")
          .containsEntry("intervalMs", 500L).containsEntry("timeoutMs", 5000L).containsEntry("maxBytes", 16L << 20)
          .containsEntry("state", "SYNCING");
      assertThat(((ConsulRegistry) r.registries().get(1)).status()).containsEntry("waitSeconds", 30L);
    }
  }

  @Test
  void rejectsBadEurekaAndConsulElementsWithAClearMessage() {
    assertThatThrownBy(() -> Registries.open("eureka://", "cluster.local")).hasMessageContaining("the host is missing");
    assertThatThrownBy(() -> Registries.open("eureka://host", "cluster.local")).hasMessageContaining("the port is missing");
    assertThatThrownBy(() -> Registries.open("eureka://h:1?pol=2s", "cluster.local"))
        .hasMessageContaining("unknown setting 'pol'");
    assertThatThrownBy(() -> Registries.open("eureka://h:1?interval=fast", "cluster.local"))
        .hasMessageContaining("interval=fast (expected a duration");
    assertThatThrownBy(() -> Registries.open("consul://h:1?wait=20m", "cluster.local"))
        .hasMessageContaining("wait PT20M (expected: 1s to 10m)");
    assertThatThrownBy(() -> Registries.open("consul://h:1?health=maybe", "cluster.local"))
        .hasMessageContaining("health=maybe (expected true or false)");
    assertThatThrownBy(() -> Registries.open("consul://h:1/v1", "cluster.local")).hasMessageContaining("a path is not accepted");
    assertThatThrownBy(() -> Registries.open("consul://h:1?maxBytes=-3", "cluster.local"))
        .hasMessageContaining("maxBytes=-3 (expected a positive size");
    assertThatThrownBy(() -> Registries.open("consul://h:1,consul://h:1", "cluster.local"))
        .hasMessageContaining("is named twice");
  }

  @Test
  void rejectsWhatItCannotOpenWithAClearMessage() {
    assertThatThrownBy(() -> Registries.open("Zookeeper", "cluster.local"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--registries 'Zookeeper': unknown registry 'Zookeeper' (expected: a comma list of file://DIR, "
            + "kubernetes, eureka://HOST:PORT[/PATH], consul://HOST:PORT)");
    assertThatThrownBy(() -> Registries.open("Consul", "cluster.local"))
        .hasMessage("registry 'Consul': expected consul://HOST:PORT[?health=..&wait=..&timeout=..&minInterval=..&retry=.."
            + "&maxRetry=..&syncTimeout=..&maxBytes=..]");
    assertThatThrownBy(() -> Registries.open("nope://x:1", "cluster.local")).hasMessageContaining("unknown registry");
    assertThatThrownBy(() -> Registries.open("", "cluster.local")).hasMessageContaining("--registries is empty");
    assertThatThrownBy(() -> Registries.open("file://" + dir + ",", "cluster.local"))
        .hasMessageContaining("an element is empty");
    assertThatThrownBy(() -> Registries.open("file://" + dir.resolve("missing"), "cluster.local"))
        .hasMessageContaining("is not a directory");
    assertThatThrownBy(() -> Registries.open("file://", "cluster.local")).hasMessageContaining("the directory is missing");
    assertThatThrownBy(() -> Registries.open("file://" + dir + ",file://" + dir, "cluster.local"))
        .hasMessageContaining("is named twice");
    assertThatThrownBy(() -> Registries.open("kubernetes://x", "cluster.local"))
        .hasMessageContaining("expected kubernetes (no arguments)");
  }
}
