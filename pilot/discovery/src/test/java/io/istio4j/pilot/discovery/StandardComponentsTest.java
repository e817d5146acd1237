package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.xds.XdsOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandardComponentsTest {

  @TempDir
  Path dir;

  @Test
  void meshConfigsConnectTimeoutListenPortAndDomainReachTheTranslation() throws Exception {
    Path mesh = dir.resolve("mesh.yaml");
    Files.writeString(mesh, "connectTimeout: 2.5s\nproxyListenPort: 15002\n");
    XdsOptions o = StandardComponents.xdsOptions(new MeshSettings("corp.local", "", MeshSettings.loadMeshConfig(mesh)));
    assertThat(o.domainSuffix()).isEqualTo("corp.local");
    assertThat(o.connectTimeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(o.proxyListenPort()).isEqualTo(15002);
    assertThat(o.debounce()).isEqualTo(XdsOptions.defaults().debounce());
  }

  @Test
  void unknownRegistriesAndStoresNameTheFlag() {
    PilotComponents c = PilotComponents.standard();
    DiscoveryOptions options = new DiscoveryOptions("", 0, "", 0, List.of("eureka"), "consul://x",
        new MeshSettings("cluster.local", "", MeshSettings.defaultMeshConfig()), Duration.ZERO, Duration.ofSeconds(1));
    assertThatThrownBy(() -> c.registries().open("eureka", options)).hasMessageContaining("--registries")
        .hasMessageContaining("eureka");
    assertThatThrownBy(() -> c.registries().open("file:///no/such/dir", options))
        .hasMessageStartingWith("--registries: ").hasMessageContaining("/no/such/dir");
    assertThatThrownBy(() -> c.configStores().open("consul://x", options)).hasMessageContaining("--configStoreURL")
        .hasMessageContaining("consul://x");
  }
}
