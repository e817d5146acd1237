package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.ConfigKind;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigParserTest {
  private final ConfigParser parser = new ConfigParser("prod", "cluster.local");

  private static final String RULE = """
      apiVersion: config.istio.io/v1alpha2
      kind: RouteRule
      metadata:
        name: reviews-default
        namespace: default
        labels: {team: books}
        annotations: {note: "first"}
        resourceVersion: "42"
      spec:
        destination:
          name: reviews
        precedence: 1
        route:
        - labels:
            version: v1
      """;

  @Test
  void readsAKubernetesShapedObject() {
    ParsedFile f = parser.parse("r.yaml", RULE);
    assertThat(f.readable()).isTrue();
    ConfigDocument d = f.documents().get(0);
    assertThat(d.status()).isEqualTo(ConfigDocument.Status.VALID);
    assertThat(d.source()).isEqualTo("r.yaml:1");
    assertThat(d.key()).isEqualTo("route-rule/default/reviews-default");
    assertThat(d.config().meta().labels()).isEqualTo(Map.of("team", "books"));
    assertThat(d.config().meta().annotations()).isEqualTo(Map.of("note", "first"));
    assertThat(d.config().meta().resourceVersion()).isEqualTo("42");
    assertThat(d.config().meta().domain()).isEqualTo("cluster.local");
    assertThat(d.config().spec(RouteRule.class).getPrecedence()).isEqualTo(1);
  }

  @Test
  void givesTheDefaultNamespaceToObjectsThatNameNone() {
    ParsedFile f = parser.parse("r.yaml", RULE.replace("  namespace: default\n", ""));
    assertThat(f.documents().get(0).config().meta().namespace()).isEqualTo("prod");
  }

  @Test
  void readsEveryDocumentOfAFileWithTheLineEachStartsOn() {
    String text = RULE + "---\n" + RULE.replace("reviews-default", "second") + "---\n";
    List<ConfigDocument> docs = parser.parse("r.yaml", text).documents();
    assertThat(docs).extracting(ConfigDocument::source).containsExactly("r.yaml:1", "r.yaml:17"); // the --- line
    assertThat(docs).extracting(ConfigDocument::name).containsExactly("reviews-default", "second");
  }

  @Test
  void expandsKindList() {
    String text = """
        apiVersion: v1
        kind: List
        items:
        - apiVersion: config.istio.io/v1alpha2
          kind: EgressRule
          metadata: {name: google}
          spec: {destination: {service: "*.google.com"}, ports: [{port: 443, protocol: https}]}
        - apiVersion: config.istio.io/v1alpha2
          kind: DestinationPolicy
          metadata: {name: reviews-lb}
          spec: {destination: {name: reviews}, loadBalancing: {name: LEAST_CONN}}
        """;
    List<ConfigDocument> docs = parser.parse("list.yaml", text).documents();
    assertThat(docs).extracting(ConfigDocument::key)
        .containsExactly("egress-rule/prod/google", "destination-policy/prod/reviews-lb");
    assertThat(docs).extracting(ConfigDocument::source).containsExactly("list.yaml:1 items[0]", "list.yaml:1 items[1]");
  }

  @Test
  void readsJson() {
    String json = """
        {"apiVersion": "config.istio.io/v1alpha2", "kind": "DestinationPolicy",
         "metadata": {"name": "p"},
         "spec": {"destination": {"name": "reviews", "labels": {"version": "v1"}},
                  "circuit_breaker": {"simple_cb": {"max_connections": 10, "sleep_window": "15m",
                                                     "http_detection_interval": "100ms"}}}}
        """;
    ConfigDocument d = parser.parse("p.json", json).documents().get(0);
    assertThat(d.errors()).isEmpty();
    DestinationPolicy p = d.config().spec(DestinationPolicy.class);
    assertThat(p.getCircuitBreaker().getSimpleCb().getMaxConnections()).isEqualTo(10);
    // Go duration syntax, as 0.2's decoder accepted
    assertThat(p.getCircuitBreaker().getSimpleCb().getSleepWindow().getSeconds()).isEqualTo(900);
    assertThat(p.getCircuitBreaker().getSimpleCb().getHttpDetectionInterval().getNanos()).isEqualTo(100_000_000);
  }

  @Test
  void acceptsV1beta1AndNoApiVersion() {
    assertThat(parser.parse("a", RULE.replace("v1alpha2", "v1beta1")).documents().get(0).status())
        .isEqualTo(ConfigDocument.Status.VALID);
    assertThat(parser.parse("a", RULE.replace("apiVersion: config.istio.io/v1alpha2\n", "")).documents().get(0)
        .status()).isEqualTo(ConfigDocument.Status.VALID);
  }

  @Test
  void refusesAnotherVersionOfTheGroup() {
    ConfigDocument d = parser.parse("a.yaml", RULE.replace("v1alpha2", "v1alpha1")).documents().get(0);
    assertThat(d.describe())
        .isEqualTo("a.yaml:1: route-rule default/reviews-default: apiVersion: 'config.istio.io/v1alpha1' "
            + "(expected: config.istio.io/v1alpha2)");
    assertThat(d.hasIdentity()).isTrue();
  }

  @Test
  void ignoresObjectsThatAreNotPilotConfig() {
    String text = """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews}
        spec: {ports: [{port: 9080}]}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: deny}
        spec: {match: "true"}
        """;
    List<ConfigDocument> docs = parser.parse("mixed.yaml", text).documents();
    assertThat(docs).extracting(ConfigDocument::status)
        .containsExactly(ConfigDocument.Status.IGNORED, ConfigDocument.Status.IGNORED);
    assertThat(docs.get(1).describe()).contains("kind rule (config.istio.io/v1alpha2) is not a Pilot config kind");
  }

  @Test
  void unknownFieldIsAnErrorNamingItsPath() {
    ConfigDocument d = parser.parse("r.yaml", RULE.replace("    version: v1", "    version: v1\n    wieght: 100"))
        .documents().get(0);
    assertThat(d.status()).isEqualTo(ConfigDocument.Status.INVALID);
    assertThat(d.describe()).isEqualTo("r.yaml:1: route-rule default/reviews-default: spec.route[0].wieght: "
        + "unknown field (DestinationWeight has: destination, labels, weight)");
    // 0.1 names are unknown in 0.2
    ConfigDocument old = parser.parse("r.yaml", RULE.replace("precedence: 1", "precedence: 1\n  match: {source_tags: {a: b}}"))
        .documents().get(0);
    assertThat(old.errors()).extracting(FieldError::field).containsExactly("spec.match.source_tags");
  }

  @Test
  void wrongTypesNameTheirPath() {
    String text = RULE.replace("precedence: 1", "precedence: high\n  websocketUpgrade: 3\n  httpReqTimeout: {simpleTimeout: {timeout: 10 seconds}}")
        .replace("version: v1", "version: 1");
    List<FieldError> errors = parser.parse("r.yaml", text).documents().get(0).errors();
    assertThat(errors).extracting(FieldError::toString).containsExactly(
        "spec.precedence: expected an integer, got 'high'",
        "spec.websocketUpgrade: expected true or false, got 3",
        "spec.httpReqTimeout.simpleTimeout.timeout: invalid duration '10 seconds' (expected: a number with a unit, "
            + "e.g. 1.5s, 100ms, 15m, 1h30m)",
        "spec.route[0].labels[version]: expected a string, got 1 (quote it)");
  }

  @Test
  void badEnumAndTwoMembersOfAOneofAreErrors() {
    String text = """
        kind: DestinationPolicy
        metadata: {name: p}
        spec:
          destination: {name: reviews}
          loadBalancing: {name: FASTEST}
        ---
        kind: RouteRule
        metadata: {name: r}
        spec:
          destination: {name: reviews}
          match: {request: {headers: {uri: {exact: /a, prefix: /b}}}}
        ---
        kind: RouteRule
        metadata: {name: r2}
        spec:
          destination: {name: reviews}
          httpFault: {delay: {percent: 10, fixedDelay: 1s, fixed_delay: 2s}}
        """;
    List<ConfigDocument> docs = parser.parse("x.yaml", text).documents();
    assertThat(docs.get(0).errors()).extracting(FieldError::toString)
        .containsExactly("spec.loadBalancing.name: 'FASTEST' is not one of ROUND_ROBIN, LEAST_CONN, RANDOM");
    assertThat(docs.get(1).errors()).extracting(FieldError::toString)
        .containsExactly("spec.match.request.headers[uri].prefix: only one of exact, prefix, regex may be set "
            + "(exact is set too)");
    assertThat(docs.get(2).errors()).extracting(FieldError::toString)
        .containsExactly("spec.httpFault.delay.fixed_delay: set twice (as fixedDelay and fixed_delay)");
  }

  @Test
  void metadataProblemsAreErrors() {
    String text = """
        kind: RouteRule
        metadata: {namespace: default}
        spec: {destination: {name: reviews}}
        ---
        kind: RouteRule
        metadata: {name: Reviews_V1, namespace: "a/b", labels: {n: 1}}
        spec: {destination: {name: reviews}}
        ---
        kind: RouteRule
        spec: {destination: {name: reviews}}
        ---
        kind: RouteRule
        metadata: {name: ok}
        spec: [destination]
        """;
    List<ConfigDocument> docs = parser.parse("m.yaml", text).documents();
    assertThat(docs.get(0).describe()).isEqualTo("m.yaml:1: route-rule (no metadata.name): metadata.name: required");
    assertThat(docs.get(0).hasIdentity()).isFalse();
    assertThat(docs.get(1).errors()).extracting(FieldError::field)
        .containsExactly("metadata.labels[n]", "metadata.name", "metadata.namespace");
    assertThat(docs.get(2).errors()).extracting(FieldError::toString)
        .containsExactly("metadata: required: a map with name (and namespace)");
    assertThat(docs.get(3).errors()).extracting(FieldError::toString).containsExactly("spec: expected a map, got a list");
  }

  @Test
  void yamlSyntaxErrorsGiveFileLineAndColumn() {
    ParsedFile f = parser.parse("bad.yaml", RULE + "---\nkind: RouteRule\nmetadata: {name: x\nspec: {}\n");
    assertThat(f.readable()).isFalse();
    assertThat(f.documents()).isEmpty();
    assertThat(f.error()).startsWith("bad.yaml:19:5: not valid YAML: while parsing a flow mapping");

    ParsedFile tabs = parser.parse("tabs.yaml", "kind: RouteRule\nmetadata:\n\tname: x\n");
    assertThat(tabs.error()).startsWith("tabs.yaml:3:1: not valid YAML: ");
  }

  @Test
  void duplicateKeysAreSyntaxErrors() {
    ParsedFile f = parser.parse("dup.yaml", "kind: RouteRule\nmetadata: {name: a}\nmetadata: {name: b}\n");
    assertThat(f.error()).startsWith("dup.yaml:3:").contains("not valid YAML").contains("metadata");
  }

  @Test
  void refusesBinaryAndNonUtf8Content() {
    assertThat(parser.parse("b.yaml", new byte[] {'a', 0, 'b'}).error()).isEqualTo("b.yaml: not a text file (it holds NUL bytes)");
    assertThat(parser.parse("b.yaml", new byte[] {(byte) 0xff, (byte) 0xfe}).error()).isEqualTo("b.yaml: not valid UTF-8 text");
    assertThat(parser.parse("ok.yaml", RULE.getBytes(StandardCharsets.UTF_8)).readable()).isTrue();
  }

  @Test
  void aliasBombsAndDeepNestingAreRefusedNotFatal() {
    StringBuilder bomb = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'z'; c++) {
      char p = (char) (c - 1);
      bomb.append(c).append(": &").append(c).append(" [*").append(p).append(", *").append(p).append(", *").append(p)
          .append(", *").append(p).append(", *").append(p).append("]\n");
    }
    // Jackson does not expand aliases, so a "billion laughs" document stays small
    ParsedFile f = parser.parse("bomb.yaml", bomb.toString());
    assertThat(f.documents()).extracting(ConfigDocument::status).containsExactly(ConfigDocument.Status.IGNORED);
    assertThat(parser.parse("deep.yaml", "[".repeat(100_000)).error()).contains("not valid YAML");
  }

  @Test
  void parseSpecNamesTheSourceAndField() {
    assertThatThrownBy(() -> parser.parseSpec(ConfigKind.ROUTE_RULE, "w.yaml",
        "destination: {name: world}\nroute:\n- {labels: {version: v0}, weight: 75}\n- {labels: {version: v1}, weight: 20}\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("w.yaml: route-rule: spec.route: route weights total 95 (must total 100)");
    assertThatThrownBy(() -> parser.parseSpec(ConfigKind.ROUTE_RULE, "w.yaml", "destination: {name: world\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("w.yaml:2:1: not valid YAML");
  }
}
