package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Duration;
import io.istio4j.pilot.config.v1.MeshConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SidecarInjectorTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String s) throws Exception {
    return JSON.readTree(s);
  }

  private static final String SPEC = "{\"containers\":[{\"name\":\"app\",\"image\":\"app\"}]}";

  private static SidecarInjector.Decision decide(SidecarInjector injector, String namespace,
      Map<String, String> nsLabels, String annotationsJson) throws Exception {
    return injector.decide(namespace, nsLabels, Map.of(), json("{\"annotations\":" + annotationsJson + "}"),
        json(SPEC));
  }

  @Test
  void thePodsAnnotationOverridesThePolicyAsUpstreamsInjectRequired() throws Exception {
    SidecarInjector enabled = Fixtures.injector(InjectorConfig.defaults());
    SidecarInjector disabled = Fixtures.injector(InjectorConfig.defaults().withPolicy(InjectionPolicy.DISABLED));
    // upstream's TestInjectRequired table
    assertThat(decide(enabled, "test-namespace", null, "{}").inject()).isTrue();
    assertThat(decide(enabled, "test-namespace", null, "{\"sidecar.istio.io/inject\":\"true\"}").inject()).isTrue();
    assertThat(decide(enabled, "test-namespace", null, "{\"sidecar.istio.io/inject\":\"false\"}").inject()).isFalse();
    assertThat(decide(disabled, "test-namespace", null, "{}").inject()).isFalse();
    assertThat(decide(disabled, "test-namespace", null, "{\"sidecar.istio.io/inject\":\"true\"}").inject()).isTrue();
    assertThat(decide(disabled, "test-namespace", null, "{\"sidecar.istio.io/inject\":\"false\"}").inject()).isFalse();
    // YAML 1.1 booleans, as upstream read them; anything else means no
    for (String yes : List.of("y", "Yes", "ON", "true")) {
      assertThat(decide(disabled, "ns", null, "{\"sidecar.istio.io/inject\":\"" + yes + "\"}").inject()).as(yes).isTrue();
    }
    assertThat(decide(enabled, "ns", null, "{\"sidecar.istio.io/inject\":\"maybe\"}").inject()).isFalse();
  }

  @Test
  void aNamespaceLabelIsThatNamespacesPolicy() throws Exception {
    SidecarInjector disabled = Fixtures.injector(InjectorConfig.defaults().withPolicy(InjectionPolicy.DISABLED));
    SidecarInjector enabled = Fixtures.injector(InjectorConfig.defaults());

    assertThat(decide(disabled, "a", Map.of("istio-injection", "enabled"), "{}").reason())
        .isEqualTo("namespace label istio-injection enabled");
    assertThat(decide(disabled, "a", Map.of("istio-injection", "enabled"), "{}").inject()).isTrue();
    assertThat(decide(enabled, "a", Map.of("istio-injection", "disabled"), "{}").inject()).isFalse();
    assertThat(decide(enabled, "a", Map.of("istio-injection", "disabled"), "{\"sidecar.istio.io/inject\":\"yes\"}")
        .inject()).isTrue();
    // a label value that is not a policy leaves the injector's policy in force
    assertThat(decide(enabled, "a", Map.of("istio-injection", "bogus"), "{}").inject()).isTrue();
  }

  @Test
  void includedExcludedAndSystemNamespaces() throws Exception {
    InjectorConfig d = InjectorConfig.defaults();
    SidecarInjector include = Fixtures.injector(new InjectorConfig(d.policy(), List.of("bookinfo"), List.of(),
        d.ignoredNamespaces(), d.params()));
    SidecarInjector exclude = Fixtures.injector(new InjectorConfig(d.policy(), List.of(), List.of("legacy"),
        d.ignoredNamespaces(), d.params()));
    String in = "{\"sidecar.istio.io/inject\":\"true\"}";

    assertThat(decide(include, "bookinfo", null, "{}").inject()).isTrue();
    assertThat(decide(include, "other", null, in).reason()).isEqualTo("namespace other is not included (namespaces [bookinfo])");
    assertThat(decide(exclude, "legacy", null, in).reason()).isEqualTo("namespace legacy is excluded (excludeNamespaces)");
    assertThat(decide(exclude, "kube-system", Map.of("istio-injection", "enabled"), in).reason())
        .isEqualTo("namespace kube-system is a system namespace");
    assertThat(decide(Fixtures.injector(d.withIgnoredNamespaces(InjectorConfig.systemNamespaces("mesh-control"))),
        "mesh-control", null, in).inject()).isFalse();
  }

  @Test
  void theSidecarFollowsTheParamsAndTheMeshConfig() throws Exception {
    InjectorConfig.Params p = new InjectorConfig.Params("hub/init:1", "hub/proxy:1", "Always", 0, 2000, "v9",
        "10.0.0.0/8,172.16.0.0/12", false, false);
    MeshConfig mesh = Fixtures.mesh02().toBuilder().setProxyListenPort(15002)
        .setDefaultConfig(Fixtures.mesh02().getDefaultConfig().toBuilder()
            .setDiscoveryAddress("istio-pilot.istio-system:15010").setZipkinAddress("zipkin.istio-system:9411")
            .setDrainDuration(Duration.newBuilder().setSeconds(45)).setParentShutdownDuration(
                Duration.newBuilder().setSeconds(60))).build();
    SidecarInjector injector = new SidecarInjector(InjectorConfig.defaults().withParams(p), mesh,
        SidecarTemplate.defaultTemplate());

    SidecarInjector.Injection i = injector.injection("ns", json("{\"labels\":{\"version\":\"v1\"}}"),
        json("{\"serviceAccount\":\"reviews\",\"containers\":[]}"));

    JsonNode init = i.sidecar().initContainers().get(0);
    assertThat(init.path("args").toString()).isEqualTo(
        "[\"-p\",\"15002\",\"-u\",\"2000\",\"-i\",\"10.0.0.0/8,172.16.0.0/12\"]");
    assertThat(init.path("imagePullPolicy").asText()).isEqualTo("Always");
    JsonNode proxy = i.sidecar().containers().get(0);
    List<String> args = JSON.convertValue(proxy.path("args"), JSON.getTypeFactory()
        .constructCollectionType(List.class, String.class));
    assertThat(args).doesNotContain("-v").containsSequence("--serviceCluster", "istio-proxy")
        .containsSequence("--discoveryAddress", "istio-pilot.istio-system:15010")
        .containsSequence("--zipkinAddress", "zipkin.istio-system:9411")
        .containsSequence("--drainDuration", "45s").containsSequence("--parentShutdownDuration", "1m0s");
    assertThat(proxy.path("securityContext").path("runAsUser").asLong()).isEqualTo(2000);
    assertThat(i.sidecar().volumes().get(1).path("secret").path("secretName").asText()).isEqualTo("istio.reviews");
    assertThat(i.annotations()).containsExactly(Map.entry("sidecar.istio.io/status", "injected-version-v9"));
  }

  @Test
  void namesThatWouldBecomeArgumentsMustBeKubernetesNames() throws Exception {
    SidecarInjector injector = Fixtures.injector(InjectorConfig.defaults());
    assertThatThrownBy(() -> injector.injection("ns", json("{\"labels\":{\"app\":\"a b\"}}"), json(SPEC)))
        .hasMessage("metadata.labels.app: 'a b' (expected: a label value: letters, digits, '-', '_', '.', at most 63)");
    assertThatThrownBy(() -> injector.injection("ns", json("{}"), json("{\"serviceAccountName\":\"../x\"}")))
        .hasMessageStartingWith("spec.serviceAccountName: '../x'");
  }

  @Test
  void durationsAreWrittenAsGoWroteThem() {
    assertThat(SidecarInjector.goDuration(Duration.newBuilder().setSeconds(2).build())).isEqualTo("2s");
    assertThat(SidecarInjector.goDuration(Duration.newBuilder().setSeconds(60).build())).isEqualTo("1m0s");
    assertThat(SidecarInjector.goDuration(Duration.newBuilder().setSeconds(3600).build())).isEqualTo("1h0m0s");
    assertThat(SidecarInjector.goDuration(Duration.newBuilder().setSeconds(90).setNanos(500_000_000).build()))
        .isEqualTo("1m30.5s");
    assertThat(SidecarInjector.goDuration(Duration.newBuilder().setNanos(500_000_000).build())).isEqualTo("500ms");
    assertThat(SidecarInjector.goDuration(Duration.getDefaultInstance())).isEqualTo("0s");
  }
}
