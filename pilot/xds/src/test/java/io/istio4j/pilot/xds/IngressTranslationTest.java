package io.istio4j.pilot.xds;

import static io.istio4j.pilot.xds.MockMesh.HELLO;
import static io.istio4j.pilot.xds.MockMesh.INGRESS;
import static io.istio4j.pilot.xds.MockMesh.WORLD;
import static io.istio4j.pilot.xds.UpstreamRulesTranslationTest.assertValid;
import static io.istio4j.pilot.xds.UpstreamRulesTranslationTest.vhost;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.MatchCondition;
import io.istio4j.pilot.config.v1.MatchRequest;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ingress proxy's view of IngressRules as pilot/config makes them from Kubernetes Ingresses. */
class IngressTranslationTest {
  private final MockMesh mesh = new MockMesh();
  private PushContext lastContext;

  /** An IngressRule as IngressConversion writes it. */
  private IngressTranslationTest rule(String name, String host, StringMatch uri, String pathType, String service,
      int port, String secret) {
    MatchRequest.Builder request = MatchRequest.newBuilder().putHeaders("uri", uri);
    if (!host.isEmpty()) {
      request.putHeaders("authority", StringMatch.newBuilder().setExact(host).build());
    }
    IngressRule.Builder r = IngressRule.newBuilder().setDestination(IstioService.newBuilder().setName(service))
        .setMatch(MatchCondition.newBuilder().setRequest(request)).setTlsSecret(secret);
    if (port > 0) {
      r.setDestinationPort(port);
    }
    Map<String, String> annotations = new HashMap<>();
    if (!pathType.isEmpty()) {
      annotations.put(Translator.INGRESS_PATH_TYPE, pathType);
    }
    mesh.store.create(new Config(new ConfigMeta(ConfigKind.INGRESS_RULE, name, "default", "cluster.local", Map.of(),
        annotations, ""), r.build()));
    return this;
  }

  private static StringMatch exact(String p) {
    return StringMatch.newBuilder().setExact(p).build();
  }

  private static StringMatch prefix(String p) {
    return StringMatch.newBuilder().setPrefix(p).build();
  }

  private static StringMatch regex(String p) {
    return StringMatch.newBuilder().setRegex(p).build();
  }

  private ProxyResources translate() {
    lastContext = new PushContext(mesh.registry, mesh.store, XdsOptions.defaults(), new EndpointIndex());
    ProxyNode node = ProxyNode.parse(INGRESS);
    return new Translator(lastContext).translate(node, List.of());
  }

  private static String path(Route r) {
    RouteMatch m = r.getMatch();
    return switch (m.getPathSpecifierCase()) {
      case PATH -> "=" + m.getPath();
      case PREFIX -> m.getPrefix() + "*";
      case PATH_SEPARATED_PREFIX -> m.getPathSeparatedPrefix() + "/*";
      case SAFE_REGEX -> "~" + m.getSafeRegex().getRegex();
      default -> "?";
    };
  }

  @Test
  void routesOfAHostFollow02sPathOrderAndKubernetesPrefixesMatchWholeSegments() {
    rule("shop-1-1", "shop.example.com", prefix("/"), "Prefix", "hello", 80, "")
        .rule("shop-1-2", "shop.example.com", exact("/cart"), "Exact", "hello", 81, "")
        .rule("shop-1-3", "shop.example.com", prefix("/api"), "Prefix", "world", 80, "")
        .rule("shop-1-4", "shop.example.com", prefix("/api/v2"), "Prefix", "world", 81, "")
        .rule("shop-1-5", "shop.example.com", regex("/x/[0-9]+"), "", "hello", 80, "")
        .rule("shop-1-6", "shop.example.com", prefix("/static/"), "", "hello", 80, "")
        .rule("shop-1-7", "shop.example.com", exact("/about"), "", "hello", 80, "")
        .rule("gateway-0-0", "", prefix("/"), "", "world", 80, "");
    ProxyResources r = translate();
    VirtualHost shop = vhost(r, "80", "shop.example.com");
    assertThat(shop.getDomainsList()).containsExactly("shop.example.com", "shop.example.com:80");
    assertThat(shop.getRoutesList()).extracting(IngressTranslationTest::path).containsExactly(
        "=/about", "=/cart", "~/x/[0-9]+", "/static/*", "/api/v2/*", "/api/*", "/*");
    assertThat(shop.getRoutes(1).getRoute().getCluster()).isEqualTo("outbound|81||" + HELLO);
    assertThat(shop.getRoutes(4).getRoute().getCluster()).isEqualTo("outbound|81||" + WORLD);
    assertThat(shop.getRoutes(4).getName()).isEqualTo("default/shop-1-4");
    VirtualHost any = vhost(r, "80", "*");
    assertThat(any.getDomainsList()).containsExactly("*");
    assertThat(any.getRoutesList()).extracting(IngressTranslationTest::path).containsExactly("/*");
    assertThat(r.listener("0.0.0.0_443")).isEmpty();
    assertThat(r.listener("0.0.0.0_80").orElseThrow().getFilterChains(0).hasTransportSocket()).isFalse();
    assertThat(lastContext.ingressProblems).isEmpty();
    assertValid(r);
  }

  @Test
  void theSameHostAndPathTwiceGoesToTheHigherPrecedenceThenTheSmallerKeyWhateverTheOrderOfCreation() {
    rule("zeta-1-1", "shop.example.com", exact("/cart"), "Exact", "world", 80, "")
        .rule("alpha-1-1", "shop.example.com", exact("/cart"), "Exact", "hello", 80, "");
    ProxyResources r = translate();
    assertThat(vhost(r, "80", "shop.example.com").getRoutesList()).singleElement()
        .satisfies(route -> assertThat(route.getName()).isEqualTo("default/alpha-1-1"));
    assertThat(lastContext.ingressProblems).containsExactly("ingress-rule/default/zeta-1-1: host shop.example.com "
        + "path /cart is already routed by ingress-rule/default/alpha-1-1 (it comes first by precedence, then name)");
    assertValid(r);

    // A precedence (IngressRule field 3) beats the name.
    Config zeta = mesh.store.get(ConfigKind.INGRESS_RULE, "zeta-1-1", "default").orElseThrow();
    mesh.store.put(new Config(zeta.meta(), zeta.spec(IngressRule.class).toBuilder().setPrecedence(5).build()));
    assertThat(vhost(translate(), "80", "shop.example.com").getRoutes(0).getName()).isEqualTo("default/zeta-1-1");
  }

  @Test
  void tlsHostsGetOneFilterChainPerSecretWithTheirServerNames() throws InvalidProtocolBufferException {
    mesh.store.putTlsSecret("default", "shop-tls", "SHOP CERT", "SHOP KEY");
    mesh.store.putTlsSecret("default", "wild-tls", "WILD CERT", "WILD KEY");
    mesh.store.putTlsSecret("default", "any-tls", "ANY CERT", "ANY KEY");
    rule("shop-1-1", "shop.example.com", prefix("/"), "Prefix", "hello", 80, "shop-tls.default")
        .rule("shop-2-1", "*.wild.example.com", prefix("/"), "Prefix", "world", 80, "wild-tls.default")
        .rule("shop-3-1", "other.wild.example.com", exact("/x"), "Exact", "world", 80, "wild-tls.default")
        .rule("plain-1-1", "plain.example.com", prefix("/"), "Prefix", "hello", 80, "")
        .rule("any-0-0", "", prefix("/"), "", "hello", 80, "any-tls.default");
    ProxyResources r = translate();
    assertThat(r.route("443").orElseThrow().getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("*", "*.wild.example.com", "other.wild.example.com", "shop.example.com");
    assertThat(vhost(r, "443", "*.wild.example.com").getDomainsList())
        .containsExactly("*.wild.example.com", "*.wild.example.com:443");
    assertThat(r.route("80").orElseThrow().getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("plain.example.com");

    Listener tls = r.listener("0.0.0.0_443").orElseThrow();
    assertThat(tls.getListenerFilters(0).getName()).isEqualTo(Translator.TLS_INSPECTOR);
    assertThat(tls.getFilterChainsList()).extracting(FilterChain::getName).containsExactly(
        "0.0.0.0_443|any-tls.default|default", "0.0.0.0_443|shop-tls.default", "0.0.0.0_443|wild-tls.default");
    assertThat(tls.getFilterChains(0).hasFilterChainMatch()).as("no SNI or an unknown name").isFalse();
    assertThat(tls.getFilterChains(1).getFilterChainMatch().getServerNamesList()).containsExactly("shop.example.com");
    assertThat(tls.getFilterChains(2).getFilterChainMatch().getServerNamesList())
        .containsExactly("*.wild.example.com", "other.wild.example.com");
    DownstreamTlsContext shop = tls.getFilterChains(1).getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class);
    assertThat(shop.getCommonTlsContext().getTlsCertificates(0).getCertificateChain().getInlineString()).isEqualTo("SHOP CERT");
    assertThat(shop.getCommonTlsContext().getTlsCertificates(0).getPrivateKey().getInlineString()).isEqualTo("SHOP KEY");
    assertValid(r);

    // The secret goes: its hosts are refused (not served in plain text), the others stay.
    mesh.store.removeTlsSecret("default", "wild-tls");
    ProxyResources without = translate();
    assertThat(without.route("443").orElseThrow().getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("*", "shop.example.com");
    assertThat(without.listener("0.0.0.0_443").orElseThrow().getFilterChainsList()).hasSize(2);
    assertThat(without.route("80").orElseThrow().getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("plain.example.com");
    assertThat(lastContext.ingressProblems).containsExactly(
        "ingress-rule/default/shop-2-1: TLS secret wild-tls.default is missing or invalid; host *.wild.example.com "
            + "is not served until it is valid",
        "ingress-rule/default/shop-3-1: TLS secret wild-tls.default is missing or invalid; host other.wild.example.com "
            + "is not served until it is valid");
    assertValid(without);
  }

  @Test
  void aHostWithTwoSecretsKeepsTheFirstRulesSecret() {
    mesh.store.putTlsSecret("default", "a-tls", "A CERT", "A KEY");
    mesh.store.putTlsSecret("default", "b-tls", "B CERT", "B KEY");
    rule("a-1-1", "shop.example.com", exact("/a"), "Exact", "hello", 80, "a-tls.default")
        .rule("b-1-1", "shop.example.com", exact("/b"), "Exact", "hello", 80, "b-tls.default");
    ProxyResources r = translate();
    assertThat(r.listener("0.0.0.0_443").orElseThrow().getFilterChainsList()).extracting(FilterChain::getName)
        .containsExactly("0.0.0.0_443|a-tls.default");
    assertThat(vhost(r, "443", "shop.example.com").getRoutesList()).extracting(IngressTranslationTest::path)
        .containsExactly("=/a", "=/b");
    assertThat(lastContext.ingressProblems).containsExactly("ingress-rule/default/b-1-1: host shop.example.com "
        + "already uses TLS secret a-tls.default; b-tls.default is ignored for it");
    assertValid(r);
  }

  @Test
  void unknownServicesPortsAndNonHttpPortsAreReportedAndTheRestIsServed() {
    mesh.registry.putService(Service.of("single.default.svc.cluster.local", "10.9.0.0",
        List.of(new Port("web", 8080, Protocol.HTTP))));
    rule("a-1-1", "shop.example.com", exact("/missing"), "Exact", "nothere", 80, "")
        .rule("a-1-2", "shop.example.com", exact("/port"), "Exact", "hello", 8443, "")
        .rule("a-1-3", "shop.example.com", exact("/tcp"), "Exact", "hello", 90, "")
        .rule("a-1-4", "shop.example.com", exact("/noport"), "Exact", "hello", 0, "")
        .rule("a-1-5", "shop.example.com", exact("/single"), "Exact", "single", 0, "")
        .rule("a-1-6", "shop.example.com", regex("/bad(regex"), "", "hello", 80, "")
        .rule("a-1-7", "shop.example.com", exact("/ok"), "Exact", "hello", 80, "");
    ProxyResources r = translate();
    assertThat(vhost(r, "80", "shop.example.com").getRoutesList()).extracting(IngressTranslationTest::path)
        .containsExactly("=/ok", "=/single");
    assertThat(vhost(r, "80", "shop.example.com").getRoutes(1).getRoute().getCluster())
        .isEqualTo("outbound|8080||single.default.svc.cluster.local");
    assertThat(lastContext.ingressProblems).containsExactlyInAnyOrder(
        "ingress-rule/default/a-1-1: service nothere.default.svc.cluster.local is not in the registry",
        "ingress-rule/default/a-1-2: " + HELLO + " has no port 8443",
        "ingress-rule/default/a-1-3: " + HELLO + " port 90 is TCP, not HTTP",
        "ingress-rule/default/a-1-4: " + HELLO + " has no port (none named, and the service has 5)",
        "ingress-rule/default/a-1-6: its match cannot be expressed");
    assertValid(r);
  }
}
