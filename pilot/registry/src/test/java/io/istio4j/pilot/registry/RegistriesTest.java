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
  void rejectsWhatItCannotOpenWithAClearMessage() {
    assertThatThrownBy(() -> Registries.open("Consul", "cluster.local"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--registries 'Consul': unknown registry 'Consul' (expected: a comma list of file://DIR, kubernetes)");
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
