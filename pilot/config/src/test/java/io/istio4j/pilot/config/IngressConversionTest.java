package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngressConversionTest {
  private final ConfigParser parser = new ConfigParser("default", "cluster.local");

  private static final String V1 = """
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata:
        name: shop
        namespace: web
        labels: {app: shop}
        annotations: {team: a}
      spec:
        ingressClassName: istio
        defaultBackend: {service: {name: fallback, port: {number: 8080}}}
        tls:
        - hosts: [shop.example.com]
          secretName: shop-tls
        - hosts: ["*.wild.example.com"]
          secretName: wild-tls
        rules:
        - host: shop.example.com
          http:
            paths:
            - {path: /cart, pathType: Exact, backend: {service: {name: cart, port: {number: 9080}}}}
            - {path: /api/, pathType: Prefix, backend: {service: {name: api, port: {name: http}}}}
            - {path: /, pathType: Prefix, backend: {service: {name: front, port: {number: 80}}}}
        - host: a.wild.example.com
          http:
            paths:
            - {path: /static/.*, pathType: ImplementationSpecific, backend: {service: {name: static, port: {number: 80}}}}
        - http:
            paths:
            - {path: /health, backend: {service: {name: health, port: {number: 80}}}}
      """;

  private Map<String, Config> rules(String yaml) {
    ParsedFile f = parser.parse("test.yaml", yaml);
    assertThat(f.readable()).as(f.error()).isTrue();
    Map<String, Config> out = new LinkedHashMap<>();
    for (ConfigDocument d : f.documents()) {
      if (d.status() == ConfigDocument.Status.VALID) {
        out.put(d.config().meta().name(), d.config());
      }
    }
    return out;
  }

  private static IngressRule spec(Config c) {
    return c.spec(IngressRule.class);
  }

  private static StringMatch header(Config c, String name) {
    return spec(c).getMatch().getRequest().getHeadersMap().get(name);
  }

  @Test
  void v1IngressBecomesOneRulePerPathNamedByPositionWithTheDefaultBackendAsZero() {
    Map<String, Config> r = rules(V1);
    assertThat(r).containsOnlyKeys("shop-0-0", "shop-1-1", "shop-1-2", "shop-1-3", "shop-2-1", "shop-3-1");
    Config fallback = r.get("shop-0-0");
    assertThat(fallback.meta().namespace()).isEqualTo("web");
    assertThat(fallback.meta().domain()).isEqualTo("cluster.local");
    assertThat(fallback.meta().labels()).containsEntry("app", "shop");
    assertThat(fallback.meta().annotations()).containsEntry("team", "a");
    assertThat(spec(fallback).getDestination().getName()).isEqualTo("fallback");
    assertThat(spec(fallback).getDestinationPort()).isEqualTo(8080);
    assertThat(header(fallback, "uri").getPrefix()).isEqualTo("/");
    assertThat(header(fallback, "authority")).isNull();
    assertThat(spec(fallback).getTlsSecret()).isEmpty();

    Config cart = r.get("shop-1-1");
    assertThat(header(cart, "authority").getExact()).isEqualTo("shop.example.com");
    assertThat(header(cart, "uri").getExact()).isEqualTo("/cart");
    assertThat(cart.meta().annotations()).containsEntry(IngressConversion.PATH_TYPE_ANNOTATION, "Exact");
    assertThat(spec(cart).getTlsSecret()).isEqualTo("shop-tls.web");

    Config api = r.get("shop-1-2");
    assertThat(header(api, "uri").getPrefix()).as("trailing / dropped, matched per element").isEqualTo("/api");
    assertThat(api.meta().annotations()).containsEntry(IngressConversion.PATH_TYPE_ANNOTATION, "Prefix");
    assertThat(spec(api).getDestinationPortName()).isEqualTo("http");
    assertThat(header(r.get("shop-1-3"), "uri").getPrefix()).isEqualTo("/");

    Config wild = r.get("shop-2-1");
    assertThat(header(wild, "uri").getPrefix()).isEqualTo("/static/");
    assertThat(spec(wild).getTlsSecret()).as("a *. tls host covers one label").isEqualTo("wild-tls.web");
    assertThat(wild.meta().annotations()).doesNotContainKey(IngressConversion.PATH_TYPE_ANNOTATION);

    Config health = r.get("shop-3-1");
    assertThat(header(health, "uri").getExact()).as("no pathType: 0.2's rule").isEqualTo("/health");
    assertThat(spec(health).getTlsSecret()).as("hostless rule, every tls entry lists hosts").isEmpty();
  }

  @Test
  void implementationSpecificPathsFollow02sRegexRule() {
    String yaml = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: p, annotations: {kubernetes.io/ingress.class: istio}}
        spec:
          rules:
          - http:
              paths:
              - {path: /plain, pathType: ImplementationSpecific, backend: {service: {name: s, port: {number: 80}}}}
              - {path: /api/v1/products.*, backend: {service: {name: s, port: {number: 80}}}}
              - {path: "/x/[0-9]+", backend: {service: {name: s, port: {number: 80}}}}
              - {path: /a.b/.*, backend: {service: {name: s, port: {number: 80}}}}
              - {path: /index.html, backend: {service: {name: s, port: {number: 80}}}}
              - {pathType: ImplementationSpecific, backend: {service: {name: s, port: {number: 80}}}}
        """;
    Map<String, Config> r = rules(yaml);
    assertThat(header(r.get("p-1-1"), "uri").getExact()).isEqualTo("/plain");
    assertThat(header(r.get("p-1-2"), "uri").getPrefix()).isEqualTo("/api/v1/products");
    assertThat(header(r.get("p-1-3"), "uri").getRegex()).isEqualTo("/x/[0-9]+");
    assertThat(header(r.get("p-1-4"), "uri").getRegex()).as("the stem is a regex itself").isEqualTo("/a.b/.*");
    assertThat(header(r.get("p-1-5"), "uri").getRegex()).as("'.' is a regex character to 0.2").isEqualTo("/index.html");
    assertThat(header(r.get("p-1-6"), "uri").getPrefix()).isEqualTo("/");
  }

  @Test
  void upstreamBookinfoV1beta1IngressStillConverts() {
    // samples/bookinfo/kube/bookinfo-ingress.yaml of 0.2, unchanged.
    String yaml = """
        apiVersion: extensions/v1beta1
        kind: Ingress
        metadata:
          name: gateway
          annotations:
            kubernetes.io/ingress.class: "istio"
        spec:
          rules:
          - http:
              paths:
              - path: /productpage
                backend:
                  serviceName: productpage
                  servicePort: 9080
              - path: /login
                backend:
                  serviceName: productpage
                  servicePort: 9080
              - path: /logout
                backend:
                  serviceName: productpage
                  servicePort: 9080
              - path: /api/v1/products.*
                backend:
                  serviceName: productpage
                  servicePort: http
        """;
    Map<String, Config> r = rules(yaml);
    assertThat(r).containsOnlyKeys("gateway-1-1", "gateway-1-2", "gateway-1-3", "gateway-1-4");
    assertThat(r.get("gateway-1-1").meta().namespace()).isEqualTo("default");
    assertThat(header(r.get("gateway-1-1"), "uri").getExact()).isEqualTo("/productpage");
    assertThat(spec(r.get("gateway-1-1")).getDestinationPort()).isEqualTo(9080);
    assertThat(header(r.get("gateway-1-4"), "uri").getPrefix()).isEqualTo("/api/v1/products");
    assertThat(spec(r.get("gateway-1-4")).getDestinationPortName()).isEqualTo("http");
  }

  @Test
  void classFilteringFollowsTheControllerMode() {
    String annotated = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, annotations: "
        + "{kubernetes.io/ingress.class: nginx}}\nspec: {ingressClassName: istio, defaultBackend: "
        + "{service: {name: s, port: {number: 80}}}}\n";
    String classless = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: b}\n"
        + "spec: {defaultBackend: {service: {name: s, port: {number: 80}}}}\n";
    String byName = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: c}\n"
        + "spec: {ingressClassName: istio, defaultBackend: {service: {name: s, port: {number: 80}}}}\n";
    String all = annotated + "---\n" + classless + "---\n" + byName;

    assertThat(rules(all)).as("STRICT: the annotation wins over ingressClassName").containsOnlyKeys("c-0-0");
    ConfigParser lenient = new ConfigParser("default", "", new IngressOptions(MeshConfig.IngressControllerMode.DEFAULT, "istio"));
    assertThat(names(lenient.parse("f", all))).containsExactly("b-0-0", "c-0-0");
    assertThat(names(new ConfigParser("default", "", IngressOptions.off()).parse("f", all))).isEmpty();
    ConfigParser nginx = new ConfigParser("default", "", new IngressOptions(MeshConfig.IngressControllerMode.STRICT, "nginx"));
    assertThat(names(nginx.parse("f", all))).containsExactly("a-0-0");
    ParsedFile f = parser.parse("f", annotated);
    assertThat(f.documents()).singleElement().satisfies(d -> {
      assertThat(d.status()).isEqualTo(ConfigDocument.Status.IGNORED);
      assertThat(d.describe()).contains("Ingress of class 'nginx'");
    });
  }

  private static List<String> names(ParsedFile f) {
    return f.documents().stream().filter(d -> d.status() == ConfigDocument.Status.VALID)
        .map(d -> d.config().meta().name()).toList();
  }

  @Test
  void aBrokenPathIsRejectedWithItsFieldWhileTheOthersConvert() {
    String yaml = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: bad, namespace: web}
        spec:
          ingressClassName: istio
          tls: [{secretName: any-tls}]
          rules:
          - host: Bad_Host
            http:
              paths:
              - {path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}
          - host: ok.example.com
            http:
              paths:
              - {path: relative, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}
              - {path: /r, pathType: Prefix, backend: {resource: {kind: Bucket, name: b}}}
              - {path: /e, pathType: Exact, backend: {service: {port: {number: 80}}}}
              - {path: /p, pathType: Exact, backend: {service: {name: s, port: {number: 70000}}}}
              - {path: /t, pathType: Fancy, backend: {service: {name: s, port: {number: 80}}}}
              - {path: /good, pathType: Exact, backend: {service: {name: s, port: {number: 80}}}}
              - {path: "/a?b", pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}
              - {path: "/a b", backend: {service: {name: s, port: {number: 80}}}}
        """;
    ParsedFile f = parser.parse("bad.yaml", yaml);
    assertThat(names(f)).containsExactly("bad-2-6");
    assertThat(f.documents().stream().filter(d -> d.status() == ConfigDocument.Status.INVALID)
        .map(ConfigDocument::describe).toList()).containsExactly(
        "bad.yaml:1: ingress-rule web/bad-1-1: spec.rules[0].host: 'Bad_Host' is not a host name "
            + "(expected: a lower-case DNS name, optionally starting with '*.')",
        "bad.yaml:1: ingress-rule web/bad-2-1: spec.rules[1].http.paths[0].path: 'relative' "
            + "(expected: an absolute path starting with '/')",
        "bad.yaml:1: ingress-rule web/bad-2-2: spec.rules[1].http.paths[1].backend.resource: "
            + "resource backends are not supported (expected: a service)",
        "bad.yaml:1: ingress-rule web/bad-2-3: spec.rules[1].http.paths[2].backend.service.name: required",
        "bad.yaml:1: ingress-rule web/bad-2-4: spec.rules[1].http.paths[3].backend.service.port: 70000 (expected: 1-65535)",
        "bad.yaml:1: ingress-rule web/bad-2-5: spec.rules[1].http.paths[4].pathType: 'Fancy' "
            + "(expected: Exact, Prefix or ImplementationSpecific)",
        "bad.yaml:1: ingress-rule web/bad-2-7: spec.rules[1].http.paths[6].path: '/a?b' has characters a URL path "
            + "cannot hold (expected: '/', letters, digits and -._~%!$&'()*+,;=:@)",
        "bad.yaml:1: ingress-rule web/bad-2-8: spec.rules[1].http.paths[7].path: '/a b' holds whitespace or a "
            + "control character");
    assertThat(spec(rules(yaml).get("bad-2-6")).getTlsSecret()).as("a tls entry without hosts covers every rule")
        .isEqualTo("any-tls.web");
  }

  // ---- TLS secrets ----

  static String resource(String name) {
    try (InputStream in = IngressConversionTest.class.getResourceAsStream("ingress/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static String secretYaml(String ns, String name, String crt, String key) {
    Base64.Encoder b64 = Base64.getEncoder();
    return "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata: {name: " + name + ", namespace: " + ns
        + "}\ndata:\n  tls.crt: " + b64.encodeToString(crt.getBytes(StandardCharsets.US_ASCII))
        + "\n  tls.key: " + b64.encodeToString(key.getBytes(StandardCharsets.US_ASCII)) + "\n";
  }

  @Test
  void tlsSecretsAreCheckedBeforeTheyAreServed() {
    String crt = resource("bookinfo.crt");
    String key = resource("bookinfo.key");
    ParsedFile ok = parser.parse("s.yaml", secretYaml("web", "shop-tls", crt, key));
    assertThat(ok.secrets()).singleElement().satisfies(s -> {
      assertThat(s.reference()).isEqualTo("shop-tls.web");
      assertThat(s.certificateChain()).isEqualTo(crt);
      assertThat(s.toString()).doesNotContain("PRIVATE");
    });
    assertThat(ok.documents()).allMatch(d -> d.status() == ConfigDocument.Status.IGNORED);

    assertThat(TlsSecrets.problem(crt, resource("other.key"))).isEqualTo("tls.key: does not belong to the first certificate of tls.crt");
    assertThat(TlsSecrets.problem("garbage", key)).startsWith("tls.crt: ");
    assertThat(TlsSecrets.problem(crt, "garbage")).startsWith("tls.key: no PEM private key");
    assertThat(TlsSecrets.problem(crt, resource("rsa-pkcs1.key"))).as("PKCS#1 is left to Envoy").isNull();

    ParsedFile bad = parser.parse("s.yaml", secretYaml("web", "broken", crt, resource("other.key")));
    assertThat(bad.secrets()).isEmpty();
    assertThat(bad.documents()).singleElement().satisfies(d -> {
      assertThat(d.status()).isEqualTo(ConfigDocument.Status.INVALID);
      assertThat(d.describe()).contains("TLS secret web/broken cannot be served: tls.key: does not belong");
    });
    ParsedFile notBase64 = parser.parse("s.yaml", "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\n"
        + "metadata: {name: x}\ndata: {tls.crt: '!!!', tls.key: '!!!'}\n");
    assertThat(notBase64.documents().get(0).describe()).contains("data.tls.crt: not base64");
    ParsedFile opaque = parser.parse("s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {a: b}\n");
    assertThat(opaque.secrets()).isEmpty();
    assertThat(opaque.documents().get(0).status()).isEqualTo(ConfigDocument.Status.IGNORED);
  }
}
