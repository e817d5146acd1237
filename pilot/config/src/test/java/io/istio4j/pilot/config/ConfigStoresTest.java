package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigStoresTest {
  @TempDir Path dir;

  @Test
  void opensFsStores() {
    try (ValidatingConfigStore store = ConfigStores.open("fs://" + dir)) {
      assertThat(store).isInstanceOf(FsConfigStore.class);
      assertThat(((FsConfigStore) store).directory()).isEqualTo(dir);
      assertThat(store.url()).isEqualTo("fs://" + dir);
    }
    try (ValidatingConfigStore store = ConfigStores.open("fs://relative/config")) {
      assertThat(((FsConfigStore) store).directory()).isEqualTo(Path.of("relative/config"));
    }
  }

  @Test
  void refusesOtherUrlsNamingTheSupportedOnes() {
    assertThatThrownBy(() -> ConfigStores.open("consul://localhost:8500"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("config store URL 'consul://localhost:8500' is not supported (expected: fs://DIR, k8s://, "
            + "k8s://?namespace=NS or k8s://?kubeconfig=PATH)");
    assertThatThrownBy(() -> ConfigStores.open("fs://")).hasMessageContaining("no directory");
    assertThatThrownBy(() -> ConfigStores.open("k8s://?ns=prod")).hasMessageContaining("unknown parameter 'ns'");
    assertThatThrownBy(() -> ConfigStores.open("k8s://?namespace=Prod_1")).hasMessageContaining("namespace 'Prod_1'");
    assertThatThrownBy(() -> ConfigStores.open("k8s://?kubeconfig=" + dir.resolve("missing")))
        .hasMessageContaining("cannot read kubeconfig");
  }

  @Test
  void crdYamlIsPackaged() {
    assertThat(KubernetesConfigStore.crdYaml()).contains("name: routerules.config.istio.io",
        "name: destinationpolicies.config.istio.io", "name: egressrules.config.istio.io", "name: v1alpha2");
  }
}
