package io.istio4j.mixer.server.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code mixs crds}: one CRD per kind of the build, named as upstream, with schemas from the protos. */
class MixerCrdsTest {

  private static final ClassLoader LOADER = MixerCrdsTest.class.getClassLoader();
  private static final Templates TEMPLATES = Templates.load(LOADER);
  private static final Adapters ADAPTERS = Adapters.load(LOADER, TEMPLATES);
  private static final List<MixerKind> KINDS = MixerKind.of(TEMPLATES, ADAPTERS);

  @Test
  void pluralsFollowUpstream() {
    assertThat(MixerKind.plural("prometheus")).isEqualTo("prometheuses");
    assertThat(MixerKind.plural("listentry")).isEqualTo("listentries");
    assertThat(MixerKind.plural("logentry")).isEqualTo("logentries");
    assertThat(MixerKind.plural("rule")).isEqualTo("rules");
    assertThat(MixerKind.plural("attributemanifest")).isEqualTo("attributemanifests");
    assertThat(MixerKind.plural("stdio")).isEqualTo("stdios");
    assertThat(MixerKind.plural("apikey")).isEqualTo("apikeys");
  }

  @Test
  void oneCrdPerKindOfTheBuildWithUpstreamNamesAndLabels() {
    List<CustomResourceDefinition> crds = parse(MixerCrds.yaml(KINDS));
    assertThat(crds).hasSize(2 + ADAPTERS.all().size() + TEMPLATES.all().size());
    assertThat(crds).extracting(c -> c.getMetadata().getName()).contains("rules.config.istio.io",
        "attributemanifests.config.istio.io", "prometheuses.config.istio.io", "deniers.config.istio.io",
        "listentries.config.istio.io", "logentries.config.istio.io",
        "metrics.config.istio.io", "testdenies.config.istio.io");
    CustomResourceDefinition prometheus = byName(crds, "prometheuses.config.istio.io");
    assertThat(prometheus.getApiVersion()).isEqualTo("apiextensions.k8s.io/v1");
    assertThat(prometheus.getMetadata().getLabels()).containsEntry("istio", "mixer-adapter")
        .containsEntry("package", "prometheus");
    assertThat(prometheus.getSpec().getGroup()).isEqualTo("config.istio.io");
    assertThat(prometheus.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(prometheus.getSpec().getNames().getKind()).isEqualTo("prometheus");
    assertThat(prometheus.getSpec().getVersions()).singleElement().satisfies(v -> {
      assertThat(v.getName()).isEqualTo("v1alpha2");
      assertThat(v.getServed()).isTrue();
      assertThat(v.getStorage()).isTrue();
    });
    assertThat(byName(crds, "rules.config.istio.io").getMetadata().getLabels()).containsEntry("istio", "core")
        .containsEntry("package", "istio.io.mixer");
    assertThat(byName(crds, "metrics.config.istio.io").getMetadata().getLabels())
        .containsEntry("istio", "mixer-instance");
  }

  @Test
  void schemasListBothFieldSpellingsAndPreserveUnknownOnlyForFreeFormFields() {
    List<CustomResourceDefinition> crds = parse(MixerCrds.yaml(KINDS));
    JSONSchemaProps prometheus = spec(byName(crds, "prometheuses.config.istio.io"));
    JSONSchemaProps metric = prometheus.getProperties().get("metrics").getItems().getSchema();
    assertThat(metric.getProperties()).containsKeys("instanceName", "instance_name", "kind");
    assertThat(metric.getProperties().get("kind").getEnum()).extracting(Object::toString)
        .contains("\"COUNTER\"", "\"GAUGE\"", "\"DISTRIBUTION\"");
    // testdeny's config is a Struct: free-form by definition.
    JSONSchemaProps testdeny = spec(byName(crds, "testdenies.config.istio.io"));
    assertThat(testdeny.getXKubernetesPreserveUnknownFields()).isTrue();
    // Instances: every field an expression string, dimensions a map of them.
    JSONSchemaProps metricInstance = spec(byName(crds, "metrics.config.istio.io"));
    assertThat(metricInstance.getProperties().get("value").getType()).isEqualTo("string");
    assertThat(metricInstance.getProperties().get("dimensions").getAdditionalProperties().getSchema().getType())
        .isEqualTo("string");
    List<String> preserved = new ArrayList<>();
    for (CustomResourceDefinition crd : crds) {
      collectPreserved(crd.getMetadata().getName(), spec(crd), preserved);
    }
    // Only Struct/Any/Value fields: testdeny's whole spec and the free-form maps of a few adapters.
    assertThat(preserved).allSatisfy(p -> assertThat(p).doesNotStartWith("rules.").doesNotStartWith("metrics."));
    assertThat(preserved).contains("testdenies.config.istio.io:spec");
  }

  @Test
  void upstreamConfigFilesFitTheSchemas() throws IOException {
    Map<String, JSONSchemaProps> byKind = new HashMap<>();
    for (CustomResourceDefinition crd : parse(MixerCrds.yaml(KINDS))) {
      byKind.put(crd.getSpec().getNames().getKind(), spec(crd));
    }
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    int checked = 0;
    for (String file : List.of("attributes.yaml", "accesslog.yaml", "metrics.yaml", "tcpMetrics.yaml",
        "prometheus.yaml", "deny.yaml", "listcheck.yaml", "quota.yaml", "mixer-rule-ratings-ratelimit.yaml",
        "mixer-rule-deny-label.yaml", "mixer-rule-additional-telemetry.yaml", "source_ip_deny.yaml")) {
      try (InputStream in = LOADER.getResourceAsStream("upstream-config/" + file)) {
        for (Object doc : yaml.readValues(yaml.getFactory().createParser(in), Object.class).readAll()) {
          if (!(doc instanceof Map<?, ?> m) || !byKind.containsKey(String.valueOf(m.get("kind")))) {
            continue; // a kind this build does not bundle
          }
          List<String> problems = new ArrayList<>();
          SchemaCheck.check(byKind.get(String.valueOf(m.get("kind"))), m.get("spec"), file + ":" + m.get("kind")
              + ":spec", problems);
          assertThat(problems).as(file).isEmpty();
          checked++;
        }
      }
    }
    assertThat(checked).isGreaterThan(20);
  }

  private static void collectPreserved(String at, JSONSchemaProps s, List<String> into) {
    if (s == null) {
      return;
    }
    if (Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields())) {
      into.add(at + ":spec");
    }
    if (s.getProperties() != null) {
      s.getProperties().forEach((k, v) -> collectPreserved(at + "." + k, v, into));
    }
    if (s.getItems() != null) {
      collectPreserved(at + "[]", s.getItems().getSchema(), into);
    }
    if (s.getAdditionalProperties() != null) {
      collectPreserved(at + "{}", s.getAdditionalProperties().getSchema(), into);
    }
  }

  static List<CustomResourceDefinition> parse(String yaml) {
    List<CustomResourceDefinition> out = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\n")) {
      if (!doc.isBlank()) {
        out.add(Serialization.unmarshal(doc, CustomResourceDefinition.class));
      }
    }
    return out;
  }

  private static CustomResourceDefinition byName(List<CustomResourceDefinition> crds, String name) {
    return crds.stream().filter(c -> c.getMetadata().getName().equals(name)).findFirst().orElseThrow();
  }

  private static JSONSchemaProps spec(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema().getProperties().get("spec");
  }

  /** The parts of OpenAPI checking a structural CRD schema does: types, properties, items, maps. */
  static final class SchemaCheck {
    private SchemaCheck() {}

    static void check(JSONSchemaProps s, Object v, String at, List<String> problems) {
      if (v == null || Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields()) && s.getType() == null) {
        return;
      }
      if (Boolean.TRUE.equals(s.getXKubernetesIntOrString())) {
        if (!(v instanceof Number || v instanceof String)) {
          problems.add(at + ": expected int or string, got " + v);
        }
        return;
      }
      switch (String.valueOf(s.getType())) {
        case "object" -> {
          if (!(v instanceof Map<?, ?> m)) {
            problems.add(at + ": expected an object, got " + v);
            return;
          }
          if (Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields())) {
            return;
          }
          for (Map.Entry<?, ?> e : m.entrySet()) {
            JSONSchemaProps p = s.getProperties() == null ? null : s.getProperties().get(String.valueOf(e.getKey()));
            if (p == null && s.getAdditionalProperties() != null) {
              p = s.getAdditionalProperties().getSchema();
            }
            if (p == null) {
              problems.add(at + "." + e.getKey() + ": not in the schema (the API server would prune it)");
            } else {
              check(p, e.getValue(), at + "." + e.getKey(), problems);
            }
          }
        }
        case "array" -> {
          if (!(v instanceof List<?> l)) {
            problems.add(at + ": expected an array, got " + v);
            return;
          }
          for (int i = 0; i < l.size(); i++) {
            check(s.getItems().getSchema(), l.get(i), at + "[" + i + "]", problems);
          }
        }
        case "string" -> {
          if (!(v instanceof String)) {
            problems.add(at + ": expected a string, got " + v);
          } else if (s.getEnum() != null && !s.getEnum().isEmpty()
              && s.getEnum().stream().noneMatch(e -> e.asText().equals(v))) {
            problems.add(at + ": " + v + " not one of " + s.getEnum());
          }
        }
        case "integer" -> {
          if (!(v instanceof Integer || v instanceof Long)) {
            problems.add(at + ": expected an integer, got " + v);
          }
        }
        case "number" -> {
          if (!(v instanceof Number)) {
            problems.add(at + ": expected a number, got " + v);
          }
        }
        case "boolean" -> {
          if (!(v instanceof Boolean)) {
            problems.add(at + ": expected a boolean, got " + v);
          }
        }
        default -> problems.add(at + ": schema without a type: " + s);
      }
    }
  }
}
