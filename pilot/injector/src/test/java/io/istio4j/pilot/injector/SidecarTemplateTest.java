package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.istio4j.pilot.config.v1.MeshConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarTemplateTest {

  @Test
  void mistakesAreRefusedWhenTheTemplateIsLoadedWithTheirLine() {
    assertThatThrownBy(() -> SidecarTemplate.parse("containers:\n- name: \"{{ proxyImge }}\"\n", "t"))
        .hasMessageStartingWith("t: line 2: unknown value 'proxyImge' (expected one of: authPolicy, ");
    assertThatThrownBy(() -> SidecarTemplate.parse("{{ if debugMode }}{{ if verbosity }}{{ end }}", "t"))
        .hasMessageContaining("line 1: '{{ if }}' inside another '{{ if }}'");
    assertThatThrownBy(() -> SidecarTemplate.parse("{{ if debugMode }}\ncontainers: []\n", "t"))
        .hasMessage("t: '{{ if }}' without '{{ end }}'");
    assertThatThrownBy(() -> SidecarTemplate.parse("\n\n{{ end }}", "t"))
        .hasMessage("t: line 3: '{{ end }}' without '{{ if }}'");
    assertThatThrownBy(() -> SidecarTemplate.parse("containers: {{ proxyImage", "t"))
        .hasMessage("t: line 1: '{{' without '}}'");
    assertThatThrownBy(() -> SidecarTemplate.parse("containers: [unclosed", "t"))
        .hasMessageStartingWith("t: the rendered text is not YAML: ");
    assertThatThrownBy(() -> SidecarTemplate.parse("containers: []\nserviceAccount: x\n", "t"))
        .hasMessage("t: unknown key 'serviceAccount' (expected: [initContainers, containers, volumes])");
    assertThatThrownBy(() -> SidecarTemplate.parse("volumes:\n- &v {name: a}\n- *v\n", "t"))
        .hasMessageStartingWith("t: line 3: YAML alias *v");
    assertThatThrownBy(() -> SidecarTemplate.parse("containers:\n- image: x\n", "t"))
        .hasMessage("t: containers[0]: expected a mapping with a name");
  }

  @Test
  void aHostileValueStaysOneString() {
    MeshConfig mesh = Fixtures.mesh02().toBuilder().setDefaultConfig(Fixtures.mesh02().getDefaultConfig()
        .toBuilder().setZipkinAddress("z\"\n  - --evil\\")).build();
    SidecarInjector injector = new SidecarInjector(InjectorConfig.defaults(), mesh, SidecarTemplate.defaultTemplate());

    SidecarInjector.Injection i = injector.injection("ns", new ObjectMapper().createObjectNode(),
        new ObjectMapper().createObjectNode());

    List<String> args = new ObjectMapper().convertValue(i.sidecar().containers().get(0).path("args"),
        new ObjectMapper().getTypeFactory().constructCollectionType(List.class, String.class));
    assertThat(args).containsSequence("--zipkinAddress", "z\"\n  - --evil\\").doesNotContain("--evil");
  }

  @Test
  void anOperatorsTemplateIsUsed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sidecar.yaml");
    Files.writeString(file, """
        containers:
        - name: istio-proxy
          image: "{{ proxyImage }}"
          args: [proxy, sidecar, --discoveryAddress, "{{ discoveryAddress }}", --serviceCluster, "{{ serviceCluster }}"]
        {{ if debugMode }}
        volumes:
        - name: debug
          emptyDir: {}
        {{ end }}
        """);
    SidecarInjector injector = new SidecarInjector(InjectorConfig.defaults(), Fixtures.mesh02(),
        SidecarTemplate.load(file));

    SidecarInjector.Injection i = injector.injection("ns", new ObjectMapper().readTree("{\"labels\":{\"app\":\"web\"}}"),
        new ObjectMapper().createObjectNode());

    assertThat(i.sidecar().initContainers()).isEmpty();
    assertThat(i.sidecar().volumes()).isEmpty();
    assertThat(i.sidecar().containers().get(0).path("args").toString())
        .isEqualTo("[\"proxy\",\"sidecar\",\"--discoveryAddress\",\"istio-pilot:8080\",\"--serviceCluster\",\"web\"]");
    assertThatThrownBy(() -> SidecarTemplate.load(dir.resolve("missing.yaml")))
        .hasMessage("--template " + dir.resolve("missing.yaml") + ": no such file");
  }
}
