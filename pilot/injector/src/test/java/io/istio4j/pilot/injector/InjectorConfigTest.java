package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class InjectorConfigTest {

  @Test
  void upstreamsConfigMapShapeIsRead() {
    InjectorConfig c = InjectorConfig.parse("""
        policy: disabled
        namespaces: [""]
        initializerName: sidecar.initializer.istio.io
        params:
          initImage: docker.io/istio/proxy_init:0.2.12
          proxyImage: docker.io/istio/proxy_debug:0.2.12
          imagePullPolicy: Always
          verbosity: 4
          sidecarProxyUID: 1337
          version: 0.2.12
          includeIPRanges: 10.0.0.0/8
          debugMode: true
        """);

    assertThat(c.policy()).isEqualTo(InjectionPolicy.DISABLED);
    assertThat(c.includeNamespaces()).isEmpty(); // "" was upstream's "all namespaces"
    assertThat(c.params().imagePullPolicy()).isEqualTo("Always");
    assertThat(c.params().verbosity()).isEqualTo(4);
    assertThat(c.params().debugMode()).isTrue();
    assertThat(c.ignoredNamespaces()).containsExactlyInAnyOrder("kube-system", "kube-public", "istio-system");
    assertThat(InjectorConfig.parse("").params()).isEqualTo(InjectorConfig.Params.defaults());
  }

  @Test
  void mistakesNameTheFieldAndWhatWasExpected() {
    assertThatThrownBy(() -> InjectorConfig.parse("policy: sometimes"))
        .hasMessage("policy: 'sometimes' (expected: enabled or disabled)");
    assertThatThrownBy(() -> InjectorConfig.parse("polcy: enabled"))
        .hasMessageStartingWith("unknown field 'polcy' (expected one of: ");
    assertThatThrownBy(() -> InjectorConfig.parse("namespaces: [a]\nexcludeNamespaces: [b]"))
        .hasMessage("namespaces [a] and excludeNamespaces [b] (expected: at most one of them)");
    assertThatThrownBy(() -> InjectorConfig.parse("params: {imagePullPolicy: Sometimes}"))
        .hasMessage("params.imagePullPolicy: 'Sometimes' (expected: Always, IfNotPresent or Never)");
    assertThatThrownBy(() -> InjectorConfig.parse("params: {includeIPRanges: '10.0.0.0/8,;rm -rf'}"))
        .hasMessageStartingWith("params.includeIPRanges: ';rm -rf'");
    assertThatThrownBy(() -> InjectorConfig.parse("params: {verbosity: lots}"))
        .hasMessage("params.verbosity: expected a whole number, found string 'lots'");
    assertThatThrownBy(() -> InjectorConfig.parse("params: {proxyImg: x}"))
        .hasMessageStartingWith("unknown field 'params.proxyImg'");
    assertThatThrownBy(() -> InjectorConfig.parse("- a"))
        .hasMessage("expected a mapping, found array");
    assertThat(InjectorConfig.parse("excludeNamespaces: [legacy]").excludeNamespaces()).isEqualTo(List.of("legacy"));
  }
}
