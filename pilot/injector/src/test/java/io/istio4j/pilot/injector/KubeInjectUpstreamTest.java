package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Upstream 0.2's {@code TestIntoResourceFile}: each input, injected offline with the settings
 * upstream's test used, means what upstream's {@code .injected} file says (containers, init
 * containers, volumes, annotations, workloads left alone).
 */
class KubeInjectUpstreamTest {

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("hello.yaml", "hello.yaml.injected", true, "IfNotPresent", false, List.of()),
        Arguments.of("hello-probes.yaml", "hello-probes.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("hello.yaml", "hello-config-map-name.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("frontend.yaml", "frontend.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("hello-service.yaml", "hello-service.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("hello-multi.yaml", "hello-multi.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("hello.yaml", "hello-always.yaml.injected", false, "Always", false, List.of()),
        Arguments.of("hello.yaml", "hello-never.yaml.injected", false, "Never", false, List.of()),
        Arguments.of("hello-ignore.yaml", "hello-ignore.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("multi-init.yaml", "multi-init.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("statefulset.yaml", "statefulset.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("enable-core-dump.yaml", "enable-core-dump.yaml.injected", false, "IfNotPresent", true,
            List.of()),
        Arguments.of("auth.yaml", "auth.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("auth.non-default-service-account.yaml", "auth.non-default-service-account.yaml.injected",
            false, "IfNotPresent", false, List.of()),
        Arguments.of("daemonset.yaml", "daemonset.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("job.yaml", "job.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("replicaset.yaml", "replicaset.yaml.injected", false, "IfNotPresent", false, List.of()),
        Arguments.of("replicationcontroller.yaml", "replicationcontroller.yaml.injected", false, "IfNotPresent",
            false, List.of()),
        Arguments.of("hello-host-network.yaml", "hello-host-network.yaml.injected", false, "IfNotPresent", false,
            List.of()),
        Arguments.of("hello-ibm.yaml", "hello-ibm.yaml.injected", false, "IfNotPresent", false,
            List.of("ibm-system")),
        Arguments.of("kube-system.yaml", "kube-system.yaml.injected", false, "IfNotPresent", false, List.of()));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("cases")
  void injectsAsUpstreamDid(String in, String want, boolean debug, String pullPolicy, boolean coreDump,
      List<String> exclude) {
    InjectorConfig config = Fixtures.config02(debug, pullPolicy, coreDump);
    config = new InjectorConfig(config.policy(), List.of(), exclude, config.ignoredNamespaces(), config.params());
    KubeInject kubeInject = new KubeInject(Fixtures.injector(config), "default");

    String out = kubeInject.inject(Fixtures.upstream(in), new ArrayList<>());

    List<JsonNode> got = Fixtures.docs(out).stream().map(Fixtures::normalize).toList();
    List<JsonNode> expected = Fixtures.docs(Fixtures.upstream(want)).stream().map(Fixtures::normalize).toList();
    assertThat(got).hasSameSizeAs(expected);
    for (int i = 0; i < got.size(); i++) {
      assertThat(got.get(i)).as("document %d of %s\n%s", i + 1, in, out).isEqualTo(expected.get(i));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void injectingTheOutputAgainChangesNothing(String in, String want, boolean debug, String pullPolicy,
      boolean coreDump, List<String> exclude) {
    KubeInject kubeInject = new KubeInject(Fixtures.injector(Fixtures.config02(debug, pullPolicy, coreDump)),
        "default");
    String once = kubeInject.inject(Fixtures.upstream(in), null);
    List<KubeInject.Outcome> outcomes = new ArrayList<>();

    String twice = kubeInject.inject(once, outcomes);

    assertThat(Fixtures.docs(twice)).isEqualTo(Fixtures.docs(once));
    assertThat(outcomes).noneMatch(o -> o.decision().inject());
  }
}
