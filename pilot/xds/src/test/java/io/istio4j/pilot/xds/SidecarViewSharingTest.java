package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.istio4j.pilot.model.ConfigKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Sidecars of one outbound view share its lists in a push; each keeps its own inbound side. */
class SidecarViewSharingTest {
  @Test
  void sidecarsWithTheSameViewAndInboundPortsShareListInstancesAndKeepTheirOwnListeners() {
    MockMesh mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml");
    PushContext ctx = new PushContext(mesh.registry, mesh.store, XdsOptions.defaults(), new EndpointIndex());
    ProxyResources v0 = translate(mesh, ctx, MockMesh.SIDECAR_V0);
    ProxyResources v1 = translate(mesh, ctx, MockMesh.SIDECAR_V1);

    assertThat(v1.clusters()).isSameAs(v0.clusters());
    assertThat(v1.endpoints()).isSameAs(v0.endpoints());
    assertThat(v1.routes()).isSameAs(v0.routes());
    assertThat(v0.listeners()).extracting(Listener::getName).contains("10.1.1.0_80").doesNotContain("10.1.1.1_80");
    assertThat(v1.listeners()).extracting(Listener::getName).contains("10.1.1.1_80").doesNotContain("10.1.1.0_80");

    // The merged lists are what a sidecar translated on its own gets: same resources, sorted by name.
    ProxyResources alone = mesh.translate(MockMesh.SIDECAR_V1);
    assertThat(v1.clusters()).isEqualTo(alone.clusters());
    assertThat(v1.endpoints()).isEqualTo(alone.endpoints());
    assertThat(v1.listeners()).isEqualTo(alone.listeners());
    assertThat(v1.routes()).isEqualTo(alone.routes());
    List<String> names = v1.clusters().stream().map(Cluster::getName).toList();
    assertThat(names).isSorted().contains("inbound|80", "PassthroughCluster").anyMatch(n -> n.startsWith("outbound|"));
  }

  @Test
  void sidecarsInAnotherNamespaceShareClustersAndEndpointsButGetTheirOwnShortDomains() {
    MockMesh mesh = new MockMesh().rule(ConfigKind.ROUTE_RULE, "weighted-route.yaml");
    PushContext ctx = new PushContext(mesh.registry, mesh.store, XdsOptions.defaults(), new EndpointIndex());
    ProxyResources here = translate(mesh, ctx, MockMesh.SIDECAR_V0);
    String otherNode = "sidecar~10.1.1.0~v0.other~other.svc.cluster.local";
    ProxyResources there = translate(mesh, ctx, otherNode);

    assertThat(there.clusters()).isSameAs(here.clusters());
    assertThat(there.endpoints()).isSameAs(here.endpoints());
    String hereDomains = domainsOf(here);
    String thereDomains = domainsOf(there);
    assertThat(hereDomains).contains("\"hello\"");
    assertThat(thereDomains).doesNotContain("\"hello\"").contains("\"hello.default\"");
    assertThat(there.routes()).isEqualTo(mesh.translate(otherNode).routes());
  }

  private static String domainsOf(ProxyResources r) {
    StringBuilder b = new StringBuilder();
    r.route("80").orElseThrow().getVirtualHostsList().forEach(v -> v.getDomainsList().forEach(d -> b.append('"').append(d).append("\" ")));
    return b.toString();
  }

  private static ProxyResources translate(MockMesh mesh, PushContext ctx, String nodeId) {
    ProxyNode node = ProxyNode.parse(nodeId);
    return new Translator(ctx).translate(node, mesh.registry.hostInstances(List.of(node.ip())));
  }
}
