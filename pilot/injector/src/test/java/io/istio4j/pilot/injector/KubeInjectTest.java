package io.istio4j.pilot.injector;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KubeInjectTest {

  private final KubeInject kubeInject = new KubeInject(Fixtures.injector(InjectorConfig.defaults()), "default");

  @Test
  void stringsAYaml11ReaderWouldRetypeStayQuoted() {
    String in = """
        kind: ConfigMap
        metadata: {name: t}
        data: {date: "2017-11-21", time: "12:30", yes: "yes", octal: "0755", inf: ".inf", plain: hello}
        """;

    String out = kubeInject.inject(in, null);

    assertThat(out).contains("date: \"2017-11-21\"", "time: \"12:30\"", "octal: \"0755\"", "inf: \".inf\"",
        "plain: hello").containsPattern("yes\"?: \"yes\"");
    assertThat(Fixtures.docs(out)).isEqualTo(Fixtures.docs(in));
  }

  @Test
  void podsCronJobsAndListItemsAreInjected() {
    String in = """
        kind: Pod
        metadata: {name: p, namespace: shop}
        spec: {containers: [{name: a, image: a}]}
        ---
        kind: CronJob
        metadata: {name: c}
        spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: a}]}}}}}
        ---
        kind: List
        items:
        - kind: Deployment
          metadata: {name: d, namespace: kube-system}
          spec: {template: {spec: {containers: [{name: a, image: a}]}}}
        """;
    List<KubeInject.Outcome> outcomes = new ArrayList<>();

    String out = kubeInject.inject(in, outcomes);

    assertThat(outcomes).extracting(o -> o.kind() + " " + o.name() + " " + o.decision().inject())
        .containsExactly("Pod p true", "CronJob c true", "Deployment d false");
    List<JsonNode> docs = Fixtures.docs(out);
    assertThat(docs.get(0).path("spec").path("containers")).hasSize(2);
    assertThat(docs.get(0).path("metadata").path("annotations").has("sidecar.istio.io/status")).isTrue();
    assertThat(docs.get(1).at("/spec/jobTemplate/spec/template/spec/initContainers/0/name").asText())
        .isEqualTo("istio-init");
    assertThat(docs.get(2).at("/items/0/spec/template/spec/containers")).hasSize(1);
  }
}
