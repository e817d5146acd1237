package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

  private static final ObjectMapper JSON = new ObjectMapper();

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

  /**
   * Upstream 0.2's {@code TestInitialize} table: the object's namespace, the policy and the
   * namespace lists decide; where upstream patched, the sidecar added is the one in its patch.
   */
  static Stream<Arguments> initializerCases() {
    return Stream.of(
        Arguments.of("required.yaml", InjectionPolicy.ENABLED, List.of(), List.of(), "default", true),
        Arguments.of("required.yaml", InjectionPolicy.ENABLED, List.of("default"), List.of(), "default", true),
        Arguments.of("first-initializer.yaml", InjectionPolicy.ENABLED, List.of("default"), List.of(), "default",
            true),
        Arguments.of("skip-object-from-non-include-namespace.yaml", InjectionPolicy.ENABLED, List.of("default"),
            List.of(), "not-default", false),
        Arguments.of("exclude-specific-namespace-from-initialization.yaml", InjectionPolicy.ENABLED, List.of(),
            List.of("default"), "default", false),
        Arguments.of("skip-initialization-with-policy-disabled.yaml", InjectionPolicy.DISABLED, List.of(), List.of(),
            "default", false),
        Arguments.of("initialization-with-policy-disabled.yaml", InjectionPolicy.DISABLED, List.of(), List.of(),
            "default", true),
        Arguments.of("deploy-in-non-included-namespace.yaml", InjectionPolicy.ENABLED, List.of("bar"), List.of(),
            "foo", false),
        Arguments.of("deploy-in-non-excluded-namespace.yaml", InjectionPolicy.ENABLED, List.of(), List.of("bar"),
            "foo", true));
  }

  @ParameterizedTest(name = "{0} in {4}")
  @MethodSource("initializerCases")
  void decidesAsUpstreamsInitializer(String in, InjectionPolicy policy, List<String> include, List<String> exclude,
      String namespace, boolean injected) throws Exception {
    InjectorConfig d = Fixtures.config02(false, "IfNotPresent", false);
    InjectorConfig.Params p = d.params();
    if (in.startsWith("initialization-") || in.startsWith("deploy-")) {
      // upstream's wantDebug: the debug image, without debug mode's privileges
      p = new InjectorConfig.Params(p.initImage(), "docker.io/istio/proxy_debug:unittest", p.imagePullPolicy(),
          p.verbosity(), p.sidecarProxyUID(), p.version(), p.includeIPRanges(), false, false);
    }
    KubeInject kubeInject = new KubeInject(Fixtures.injector(new InjectorConfig(policy, include, exclude,
        d.ignoredNamespaces(), p)), namespace);
    // Upstream created the object in the test's namespace, whatever its YAML said.
    ObjectNode object = (ObjectNode) Fixtures.docs(Fixtures.upstream(in)).get(0);
    ((ObjectNode) object.get("metadata")).remove("namespace");

    JsonNode out = Fixtures.docs(kubeInject.inject(Fixtures.YAML.writeValueAsString(object), null)).get(0);

    JsonNode patch = JSON.readTree(Fixtures.upstream(in + ".patch"));
    assertThat(patch.at("/spec/template/spec").isObject()).as("upstream patched " + in).isEqualTo(injected);
    JsonNode spec = out.at("/spec/template/spec");
    if (!injected) {
      assertThat(spec).isEqualTo(object.at("/spec/template/spec"));
      return;
    }
    JsonNode want = Fixtures.normalize(patch.at("/spec/template/spec"));
    JsonNode containers = spec.get("containers");
    assertThat(containers.get(containers.size() - 1)).isEqualTo(want.at("/containers/0"));
    assertThat(spec.get("initContainers")).isEqualTo(want.get("initContainers"));
    assertThat(spec.get("volumes")).isEqualTo(want.get("volumes"));
    assertThat(out.at("/spec/template/metadata/annotations")).isEqualTo(patch.at("/spec/template/metadata/annotations"));
  }
}
