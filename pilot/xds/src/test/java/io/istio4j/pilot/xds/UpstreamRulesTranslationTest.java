package io.istio4j.pilot.xds;

import static io.istio4j.pilot.xds.MockMesh.HELLO;
import static io.istio4j.pilot.xds.MockMesh.HTTPBIN;
import static io.istio4j.pilot.xds.MockMesh.INGRESS;
import static io.istio4j.pilot.xds.MockMesh.SIDECAR_V0;
import static io.istio4j.pilot.xds.MockMesh.SIDECAR_V1;
import static io.istio4j.pilot.xds.MockMesh.WORLD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.MatchCondition;
import io.istio4j.pilot.config.v1.MatchRequest;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.Service;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each rule file of upstream's {@code proxy/envoy/testdata}, translated against upstream's mock
 * registry, makes the same routing decisions 0.2's golden v1 JSON shows (envoy-v1-golden/), in v3.
 */
class UpstreamRulesTranslationTest {
  static final String W80 = "outbound|80||" + WORLD;
  static final String W80V0 = "outbound|80|version=v0|" + WORLD;
  static final String W80V1 = "outbound|80|version=v1|" + WORLD;

  static VirtualHost vhost(ProxyResources r, String route, String name) {
    RouteConfiguration rc = r.route(route).orElseThrow(() -> new AssertionError("no route config " + route + " in " + r.routes()));
    return rc.getVirtualHostsList().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no vhost " + name + " in " + route));
  }

  static Cluster cluster(ProxyResources r, String name) {
    return r.cluster(name).orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  static void assertValid(ProxyResources r) {
    assertThat(ResourceValidator.validate(r)).isEmpty();
    assertThat(XdsServer.consistency(r)).isEmpty();
  }

  @Test
  void noRulesGivesUpstreamsDomainsAndOneDefaultRoutePerService() {
    ProxyResources r = new MockMesh().translate(SIDECAR_V0);
    VirtualHost hello = vhost(r, "80", HELLO + "|http");
    // rds-v0.json.golden: the same domains in the same order.
    assertThat(hello.getDomainsList()).containsExactly("hello:80", "hello", "hello.default:80", "hello.default",
        "hello.default.svc:80", "hello.default.svc", "hello.default.svc.cluster:80", "hello.default.svc.cluster",
        "hello.default.svc.cluster.local:80", "hello.default.svc.cluster.local", "10.1.0.0:80", "10.1.0.0");
    assertThat(hello.getRoutesList()).hasSize(1);
    assertThat(hello.getRoutes(0).getMatch().getPrefix()).isEqualTo("/");
    assertThat(hello.getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|80||" + HELLO);
    VirtualHost httpbin = vhost(r, "80", HTTPBIN + "|http");
    assertThat(httpbin.getDomainsList()).doesNotContain("10.1.0.0").contains("httpbin", "httpbin:80");
    assertThat(httpbin.getRoutes(0).getRoute().getHostRewriteLiteral()).isEqualTo("httpbin.org");
    assertThat(cluster(r, "outbound|80||" + HTTPBIN).getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
    // rds-v0-status: port 81 has its own route configuration.
    assertThat(vhost(r, "81", WORLD + "|http-status").getDomainsList()).contains("world:81", "10.2.0.0:81");
    // EDS clusters per service port, EDS name = 0.2's service key.
    Cluster w = cluster(r, W80);
    assertThat(w.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
    assertThat(w.getEdsClusterConfig().getServiceName()).isEqualTo(WORLD + "|http");
    assertThat(r.endpoint(WORLD + "|http").orElseThrow().getEndpointsList()).singleElement().satisfies(loc -> {
      assertThat(loc.getLoadBalancingWeight().getValue()).isEqualTo(2);
      assertThat(loc.getLocality().getRegion()).isEqualTo("region");
      assertThat(loc.getLbEndpointsList()).extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
          .containsExactly("10.2.1.0", "10.2.1.1");
    });
    assertThat(cluster(r, "outbound|90||" + WORLD).getEdsClusterConfig().getServiceName()).isEqualTo(WORLD + "|custom");
    // lds-v0-none: TCP listeners per VIP:port, inbound listeners for the co-located instance, the virtual listener.
    assertThat(r.listeners()).extracting(Listener::getName).contains("10.2.0.0_90", "10.2.0.0_100", "10.2.0.0_110",
        "0.0.0.0_80", "0.0.0.0_81", "10.1.1.0_80", "10.1.1.0_1081", "10.1.1.0_1090", Translator.VIRTUAL_LISTENER);
    assertThat(r.listener("10.1.1.0_1081").orElseThrow().getTrafficDirection()).isEqualTo(TrafficDirection.INBOUND);
    assertThat(cluster(r, "inbound|1081").getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
    assertThat(r.listener(Translator.VIRTUAL_LISTENER).orElseThrow().getUseOriginalDst().getValue()).isTrue();
    assertThat(r.listener(Translator.VIRTUAL_LISTENER).orElseThrow().getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);
    assertValid(r);
  }

  @Test
  void weightedRouteSplitsSeventyFiveTwentyFiveOverLabelSubsets() {
    ProxyResources r = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml").translate(SIDECAR_V0);
    VirtualHost world = vhost(r, "80", WORLD + "|http");
    // rds-weighted.json.golden: one catch-all route, weighted 75/25, no default after it.
    assertThat(world.getRoutesList()).hasSize(1);
    Route route = world.getRoutes(0);
    assertThat(route.getMatch().getPrefix()).isEqualTo("/");
    assertThat(route.getRoute().getWeightedClusters().getClustersList())
        .extracting(WeightedCluster.ClusterWeight::getName, c -> c.getWeight().getValue())
        .containsExactly(tuple(W80V0, 75), tuple(W80V1, 25));
    assertThat(cluster(r, W80V0).getEdsClusterConfig().getServiceName()).isEqualTo(WORLD + "|http|version=v0");
    assertThat(r.endpoint(WORLD + "|http|version=v1").orElseThrow().getEndpoints(0).getLbEndpointsList())
        .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).containsExactly("10.2.1.1");
    // Proxyless clients get the same split on their own route configuration.
    ProxyResources grpc = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml").translate("grpc-client-1");
    assertThat(vhost(grpc, WORLD + ":80", WORLD + ":80").getRoutes(0).getRoute().getWeightedClusters().getClustersCount()).isEqualTo(2);
    assertValid(r);
    assertValid(grpc);
  }

  @Test
  void faultRouteAppliesToItsSourceOnlyWithHeaderMatchesDelayAndAbort() throws InvalidProtocolBufferException {
    MockMesh mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "fault-route.yaml");
    ProxyResources v0 = mesh.translate(SIDECAR_V0);
    VirtualHost world = vhost(v0, "80", WORLD + "|http");
    // rds-fault.json.golden: the matching route to v1, then the default route.
    assertThat(world.getRoutesList()).hasSize(2);
    Route fault = world.getRoutes(0);
    assertThat(fault.getMatch().getHeadersList()).extracting(HeaderMatcher::getName).containsExactly("animal", "name", "scooby");
    assertThat(fault.getMatch().getHeaders(0).getStringMatch().getPrefix()).isEqualTo("dog.cat");
    assertThat(fault.getMatch().getHeaders(1).getStringMatch().getSafeRegex().getRegex()).isEqualTo("sco+do+");
    assertThat(fault.getMatch().getHeaders(2).getStringMatch().getExact()).isEqualTo("doo");
    assertThat(fault.getRoute().getCluster()).isEqualTo(W80V1);
    HTTPFault f = fault.getTypedPerFilterConfigOrThrow(Translator.FAULT_FILTER).unpack(HTTPFault.class);
    assertThat(f.getDelay().getFixedDelay()).isEqualTo(Durations.fromSeconds(5));
    assertThat(f.getDelay().getPercentage()).isEqualTo(FractionalPercent.newBuilder().setNumerator(1_000_000)
        .setDenominator(FractionalPercent.DenominatorType.MILLION).build());
    assertThat(f.getAbort().getHttpStatus()).isEqualTo(503);
    assertThat(f.getAbort().getPercentage().getNumerator()).isEqualTo(1_000_000);
    assertThat(world.getRoutes(1).getRoute().getCluster()).isEqualTo(W80);
    // The outbound listener carries the fault filter before the router.
    HttpConnectionManager hcm = v0.listener("0.0.0.0_80").orElseThrow().getFilterChains(0).getFilters(0).getTypedConfig()
        .unpack(HttpConnectionManager.class);
    assertThat(hcm.getHttpFiltersList()).extracting(h -> h.getName())
        .containsExactly(Translator.FAULT_FILTER, "envoy.filters.http.router");
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("80");
    // lds-v1-fault equals lds-v1-none: the v1 sidecar is not the rule's source.
    ProxyResources v1 = mesh.translate(SIDECAR_V1);
    assertThat(vhost(v1, "80", WORLD + "|http").getRoutesList()).singleElement()
        .satisfies(rt -> assertThat(rt.getRoute().getCluster()).isEqualTo(W80));
    assertValid(v0);
    assertValid(v1);
  }

  @Test
  void redirectRouteRedirectsWithHeaderMatches() {
    ProxyResources r = new MockMesh().rule(ConfigKind.ROUTE_RULE, "redirect-route.yaml").translate(SIDECAR_V0);
    VirtualHost world = vhost(r, "80", WORLD + "|http");
    assertThat(world.getRoutesList()).hasSize(2);
    Route redirect = world.getRoutes(0);
    assertThat(redirect.hasRoute()).isFalse();
    assertThat(redirect.getRedirect().getPathRedirect()).isEqualTo("/new/path");
    assertThat(redirect.getRedirect().getHostRedirect()).isEqualTo("foo.bar.com");
    assertThat(redirect.getRedirect().getResponseCode()).isEqualTo(RedirectAction.RedirectResponseCode.FOUND);
    assertThat(redirect.getMatch().getHeadersList()).extracting(HeaderMatcher::getName).containsExactly("animal", "name", "scooby");
    assertThat(world.getRoutes(1).getRoute().getCluster()).isEqualTo(W80);
    assertValid(r);
  }

  @Test
  void rewriteRouteRewritesPrefixAndHost() {
    ProxyResources r = new MockMesh().rule(ConfigKind.ROUTE_RULE, "rewrite-route.yaml").translate(SIDECAR_V0);
    VirtualHost world = vhost(r, "80", WORLD + "|http");
    assertThat(world.getRoutesList()).hasSize(2);
    Route rw = world.getRoutes(0);
    assertThat(rw.getMatch().getPrefix()).isEqualTo("/old/path");
    assertThat(rw.getRoute().getPrefixRewrite()).isEqualTo("/new/path");
    assertThat(rw.getRoute().getHostRewriteLiteral()).isEqualTo("foo.bar.com");
    assertThat(rw.getRoute().getCluster()).isEqualTo(W80);
    assertThat(world.getRoutes(1).getMatch().getPrefix()).isEqualTo("/");
    assertValid(r);
  }

  @Test
  void timeoutRouteRuleSetsTimeoutAndRetries() {
    ProxyResources r = new MockMesh().rule(ConfigKind.ROUTE_RULE, "timeout-route-rule.yaml").translate(SIDECAR_V0);
    VirtualHost world = vhost(r, "80", WORLD + "|http");
    assertThat(world.getRoutesList()).singleElement().satisfies(rt -> {
      assertThat(rt.getRoute().getCluster()).isEqualTo(W80);
      assertThat(rt.getRoute().getTimeout()).isEqualTo(Durations.fromSeconds(30));
      assertThat(rt.getRoute().getMaxStreamDuration().getMaxStreamDuration()).isEqualTo(Durations.fromSeconds(30));
      assertThat(rt.getRoute().getRetryPolicy().getRetryOn()).isEqualTo("5xx,connect-failure,refused-stream");
      assertThat(rt.getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(1);
      assertThat(rt.getRoute().getRetryPolicy().getPerTryTimeout()).isEqualTo(Durations.fromSeconds(5));
    });
    assertValid(r);
  }

  @Test
  void websocketRouteEnablesUpgradeOnItsRoute() {
    ProxyResources r = new MockMesh().rule(ConfigKind.ROUTE_RULE, "websocket-route.yaml").translate(SIDECAR_V0);
    VirtualHost hello = vhost(r, "80", HELLO + "|http");
    assertThat(hello.getRoutesList()).hasSize(2);
    assertThat(hello.getRoutes(0).getMatch().getPrefix()).isEqualTo("/websocket");
    assertThat(hello.getRoutes(0).getRoute().getUpgradeConfigsList()).singleElement().satisfies(u -> {
      assertThat(u.getUpgradeType()).isEqualTo("websocket");
      assertThat(u.getEnabled().getValue()).isTrue();
    });
    assertThat(hello.getRoutes(1).getRoute().getUpgradeConfigsCount()).isZero();
    // The inbound side of hello (this sidecar's own service) allows the upgrade too (lds-websocket).
    HttpConnectionManager inbound = unpackHcm(r.listener("10.1.1.0_80").orElseThrow());
    assertThat(inbound.getRouteConfig().getVirtualHosts(0).getRoutes(0).getRoute().getUpgradeConfigs(0).getUpgradeType())
        .isEqualTo("websocket");
    assertValid(r);
  }

  @Test
  void circuitBreakerPolicyConfiguresTheRoutedSubsetClusterForItsSource() {
    MockMesh mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml")
        .rule(ConfigKind.DESTINATION_POLICY, "cb-policy.yaml");
    ProxyResources r = mesh.translate(SIDECAR_V0);
    // cds-circuit-breaker.json.golden, cluster world|http|version=v0.
    Cluster v0 = cluster(r, W80V0);
    assertThat(v0.getLbPolicy()).isEqualTo(Cluster.LbPolicy.RANDOM);
    var t = v0.getCircuitBreakers().getThresholds(0);
    assertThat(t.getMaxConnections().getValue()).isEqualTo(100);
    assertThat(t.getMaxPendingRequests().getValue()).isEqualTo(100);
    assertThat(t.getMaxRequests().getValue()).isEqualTo(100);
    OutlierDetection od = v0.getOutlierDetection();
    assertThat(od.getConsecutive5Xx().getValue()).isEqualTo(10);
    assertThat(od.getInterval()).isEqualTo(Durations.fromSeconds(30));
    assertThat(od.getBaseEjectionTime()).isEqualTo(Durations.fromMillis(15_500));
    assertThat(od.getMaxEjectionPercent().getValue()).isEqualTo(100);
    assertThat(httpOptions(v0).getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue()).isEqualTo(100);
    // The policy names labels v0 exactly: v1 and the unlabelled cluster keep the defaults.
    assertThat(cluster(r, W80V1).getLbPolicy()).isEqualTo(Cluster.LbPolicy.ROUND_ROBIN);
    assertThat(cluster(r, W80V1).hasCircuitBreakers()).isFalse();
    assertThat(cluster(r, W80).hasOutlierDetection()).isFalse();
    // The policy's source is hello v0: the v1 sidecar's clusters have no policy.
    assertThat(cluster(mesh.translate(SIDECAR_V1), W80V0).hasCircuitBreakers()).isFalse();
    assertValid(r);
  }

  @Test
  void egressRuleServesWildcardHostsOnEachPortWithTlsOriginationOnHttps() throws InvalidProtocolBufferException {
    ProxyResources r = new MockMesh().rule(ConfigKind.EGRESS_RULE, "egress-rule.yaml").translate(SIDECAR_V0);
    for (int port : List.of(80, 443, 8080)) {
      VirtualHost vh = vhost(r, String.valueOf(port), "*.google.com:" + port);
      assertThat(vh.getDomainsList()).containsExactly("*.google.com", "*.google.com:" + port);
      String name = "outbound|" + port + "||*.google.com";
      assertThat(vh.getRoutes(0).getRoute().getCluster()).isEqualTo(name);
      Cluster c = cluster(r, name);
      assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
      assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
      assertThat(r.listener("0.0.0.0_" + port)).isPresent();
    }
    Cluster https = cluster(r, "outbound|443||*.google.com");
    assertThat(https.getTransportSocket().getTypedConfig().is(UpstreamTlsContext.class)).isTrue();
    assertThat(httpOptions(https).getUpstreamHttpProtocolOptions().getAutoSni()).isTrue();
    assertThat(httpOptions(cluster(r, "outbound|8080||*.google.com")).getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
    assertThat(cluster(r, "outbound|80||*.google.com").hasTransportSocket()).isFalse();
    assertValid(r);
  }

  @Test
  void egressRuleForPlainHostUsesDnsAndSni() throws InvalidProtocolBufferException {
    MockMesh mesh = new MockMesh();
    mesh.store.create(new Config(ConfigMeta.of(ConfigKind.EGRESS_RULE, "cnn", "default"),
        EgressRule.newBuilder()
            .setDestination(IstioService.newBuilder().setService("edition.cnn.com"))
            .addPorts(EgressRule.Port.newBuilder().setPort(443).setProtocol("https")).build()));
    ProxyResources r = mesh.translate(SIDECAR_V0);
    Cluster c = cluster(r, "outbound|443||edition.cnn.com");
    assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
    assertThat(c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress().getAddress())
        .isEqualTo("edition.cnn.com");
    assertThat(c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class).getSni()).isEqualTo("edition.cnn.com");
    assertValid(r);
  }

  @Test
  void egressRouteRuleAndPolicyApplyToTheEgressHost() {
    ProxyResources r = new MockMesh().rule(ConfigKind.EGRESS_RULE, "egress-rule.yaml")
        .rule(ConfigKind.ROUTE_RULE, "egress-rule-timeout-route-rule.yaml")
        .rule(ConfigKind.DESTINATION_POLICY, "egress-rule-cb-policy.yaml").translate(SIDECAR_V0);
    // rds-timeout.json.golden: *.google.com:80 gets the timeout and retries.
    Route route = vhost(r, "80", "*.google.com:80").getRoutes(0);
    assertThat(route.getRoute().getTimeout()).isEqualTo(Durations.fromSeconds(30));
    assertThat(route.getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(1);
    assertThat(route.getRoute().getCluster()).isEqualTo("outbound|80||*.google.com");
    // cds-circuit-breaker.json.golden: the egress clusters get the policy's 9s, original-dst load balancing stays.
    for (int port : List.of(80, 443, 8080)) {
      Cluster c = cluster(r, "outbound|" + port + "||*.google.com");
      assertThat(c.getLbPolicy()).isEqualTo(Cluster.LbPolicy.CLUSTER_PROVIDED);
      assertThat(c.getCircuitBreakers().getThresholds(0).getMaxConnections().getValue()).isEqualTo(9);
      assertThat(c.getOutlierDetection().getConsecutive5Xx().getValue()).isEqualTo(9);
      assertThat(c.getOutlierDetection().getInterval()).isEqualTo(Durations.fromSeconds(9));
      assertThat(c.getOutlierDetection().getBaseEjectionTime()).isEqualTo(Durations.fromSeconds(9));
      assertThat(c.getOutlierDetection().getMaxEjectionPercent().getValue()).isEqualTo(9);
    }
    assertValid(r);
  }

  @Test
  void ingressRulesRouteByAuthorityAndUriWithTlsOnTheirPort() {
    MockMesh mesh = new MockMesh().rule(ConfigKind.INGRESS_RULE, "ingress-route-foo.yaml")
        .rule(ConfigKind.INGRESS_RULE, "ingress-route-world.yaml");
    // Without its secret (my-secret.default) the TLS rule is refused, not served in plain text.
    ProxyResources noSecret = mesh.translate(INGRESS);
    assertThat(noSecret.listener("0.0.0.0_443")).isEmpty();
    assertThat(vhost(noSecret, "80", "world.com").getRoutesCount()).isEqualTo(1);
    assertThat(noSecret.route("80").orElseThrow().getVirtualHostsList()).extracting(VirtualHost::getName)
        .containsExactly("world.com");
    mesh.store.putTlsSecret("default", "my-secret", "CERT PEM", "KEY PEM");
    ProxyResources r = mesh.translate(INGRESS);
    // rds-ingress.json.golden: vhost world.com, path /hello to world's http cluster.
    VirtualHost world = vhost(r, "80", "world.com");
    assertThat(world.getDomainsList()).containsExactly("world.com", "world.com:80");
    assertThat(world.getRoutes(0).getMatch().getPath()).isEqualTo("/hello");
    assertThat(world.getRoutes(0).getMatch().getHeadersCount()).isZero();
    assertThat(world.getRoutes(0).getRoute().getCluster()).isEqualTo(W80);
    // rds-ingress-ssl.json.golden: the TLS rule on 443, vhost *, prefix /bar to hello's port 81.
    VirtualHost any = vhost(r, "443", "*");
    assertThat(any.getRoutes(0).getMatch().getPrefix()).isEqualTo("/bar");
    assertThat(any.getRoutes(0).getRoute().getCluster()).isEqualTo("outbound|81||" + HELLO);
    assertThat(r.listener("0.0.0.0_443").orElseThrow().getFilterChains(0).hasTransportSocket()).isTrue();
    assertThat(r.listener("0.0.0.0_80").orElseThrow().getFilterChains(0).hasTransportSocket()).isFalse();
    assertValid(r);
    // rds-ingress-weighted.json.golden: a weighted route rule for world splits the ingress route.
    ProxyResources weighted = mesh.rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml").translate(INGRESS);
    assertThat(vhost(weighted, "80", "world.com").getRoutes(0).getRoute().getWeightedClusters().getClustersList())
        .extracting(WeightedCluster.ClusterWeight::getName).containsExactly(W80V0, W80V1);
    assertValid(weighted);
  }

  @Test
  void everyUpstreamRuleFileLoadsAndTranslatesToValidResourcesForEveryProxyKind() throws Exception {
    List<String> files;
    try (Stream<Path> s = Files.list(MockMesh.RULES)) {
      files = s.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(files).hasSize(12);
    MockMesh mesh = new MockMesh();
    for (String f : files) {
      ConfigKind kind = f.startsWith("ingress-") ? ConfigKind.INGRESS_RULE
          : f.contains("policy") ? ConfigKind.DESTINATION_POLICY
          : f.equals("egress-rule.yaml") ? ConfigKind.EGRESS_RULE : ConfigKind.ROUTE_RULE;
      mesh.rule(kind, f);
      for (String node : List.of(SIDECAR_V0, SIDECAR_V1, INGRESS, "grpc-client")) {
        ProxyResources r = mesh.translate(node);
        assertThat(ResourceValidator.validate(r)).as("%s for %s", f, node).isEmpty();
        assertThat(XdsServer.consistency(r)).as("%s for %s", f, node).isEmpty();
      }
    }
  }

  @Test
  void aRuleWithANonRe2RegexIsSkippedAndTheOthersStillApply() {
    MockMesh mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml");
    mesh.store.create(new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "lookahead", "default"), RouteRule.newBuilder()
        .setDestination(IstioService.newBuilder().setName("world")).setPrecedence(5)
        .setMatch(MatchCondition.newBuilder().setRequest(MatchRequest.newBuilder()
            .putHeaders("cookie", StringMatch.newBuilder().setRegex("^(?=.*user=jason)").build())))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v1")).build()));
    ProxyResources r = mesh.translate(SIDECAR_V0);
    VirtualHost world = vhost(r, "80", WORLD + "|http");
    assertThat(world.getRoutesList()).singleElement()
        .satisfies(rt -> assertThat(rt.getRoute().getWeightedClusters().getClustersCount()).isEqualTo(2));
    assertValid(r);
  }

  @Test
  void sidecarDomainsAreRelativeToTheProxysNamespace() {
    var s = Service.of("reviews.prod.svc.cluster.local", null, MockMesh.PORTS);
    assertThat(Translator.sidecarDomains(s, MockMesh.PORTS.get(0), "default.svc.cluster.local"))
        .containsExactly("reviews.prod:80", "reviews.prod", "reviews.prod.svc:80", "reviews.prod.svc",
            "reviews.prod.svc.cluster:80", "reviews.prod.svc.cluster", "reviews.prod.svc.cluster.local:80",
            "reviews.prod.svc.cluster.local");
    assertThat(Translator.outboundCluster(9080, Labels.of("version", "v2"), "reviews.prod.svc.cluster.local"))
        .isEqualTo("outbound|9080|version=v2|reviews.prod.svc.cluster.local");
  }

  @ParameterizedTest
  @MethodSource("nodeIds")
  void nodeIdsParseAsIstioDoes(String id, ProxyNode.Type type, String ip) {
    ProxyNode n = ProxyNode.parse(id);
    assertThat(n.type()).isEqualTo(type);
    assertThat(n.ip()).isEqualTo(ip);
  }

  static Stream<Arguments> nodeIds() {
    return Stream.of(
        Arguments.of(SIDECAR_V0, ProxyNode.Type.SIDECAR, "10.1.1.0"),
        Arguments.of(INGRESS, ProxyNode.Type.INGRESS, "10.3.3.3"),
        Arguments.of("egress~10.3.3.4~egress.default~default.svc.cluster.local", ProxyNode.Type.EGRESS, "10.3.3.4"),
        Arguments.of("my-grpc-client", ProxyNode.Type.PROXYLESS, ""));
  }

  @Test
  void malformedNodeIdsAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ProxyNode.parse("sidecar~10.0.0.1~x"))
        .hasMessageContaining("expected 4 parts");
    assertThatThrownBy(() -> ProxyNode.parse("router~10.0.0.1~x~d"))
        .hasMessageContaining("type 'router'");
    assertThatThrownBy(() -> ProxyNode.parse("sidecar~~x~d"))
        .hasMessageContaining("IP part is empty");
  }

  private static HttpProtocolOptions httpOptions(Cluster c) {
    try {
      return c.getTypedExtensionProtocolOptionsOrThrow(Translator.HTTP_OPTIONS_KEY).unpack(HttpProtocolOptions.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static HttpConnectionManager unpackHcm(Listener l) {
    try {
      return l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
