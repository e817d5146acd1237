package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MeshMtlsTranslationTest {
  static final String REVIEWS_SA = "spiffe://cluster.local/ns/default/sa/reviews";
  static final String PRODUCT_SA = "spiffe://cluster.local/ns/default/sa/productpage";
  static final String SIDECAR = "sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local";

  final MemoryServiceRegistry registry = new MemoryServiceRegistry("test");
  @Nullable XdsServer server;

  @AfterEach
  void close() {
    if (server != null) {
      server.close();
    }
  }

  XdsServer server(MtlsMode mesh, Map<String, String> reviewsAnnotations, @Nullable SecretSource secrets) {
    Port http = new Port("http", 9080, Protocol.HTTP);
    Port grpc = new Port("grpc", 7070, Protocol.GRPC);
    Service reviews = Service.of("reviews.default.svc.cluster.local", "10.1.0.1", List.of(http, grpc))
        .withAnnotations(reviewsAnnotations);
    Service product = Service.of("productpage.default.svc.cluster.local", "10.1.0.2", List.of(http));
    registry.putService(reviews);
    registry.putService(product);
    registry.setInstances(reviews.hostname(), List.of(
        new ServiceInstance(new NetworkEndpoint("10.0.0.1", 9080, http), reviews, Labels.EMPTY, null, REVIEWS_SA),
        new ServiceInstance(new NetworkEndpoint("10.0.0.1", 7070, grpc), reviews, Labels.EMPTY, null, REVIEWS_SA)));
    registry.setInstances(product.hostname(), List.of(
        new ServiceInstance(new NetworkEndpoint("10.0.0.2", 9080, http), product, Labels.EMPTY, null, PRODUCT_SA)));
    server = new XdsServer(registry, new MemoryConfigStore(), XdsOptions.defaults(), new MeshSecurity(mesh, secrets));
    return server;
  }

  static <T extends Message> T unpack(Any any, Class<T> type) throws Exception {
    return any.unpack(type);
  }

  @Test
  void strictMeshOriginatesMtlsWithSpiffeSanMatchAndSdsSecrets() throws Exception {
    ProxyResources r = server(MtlsMode.STRICT, Map.of(), null).resourcesFor(SIDECAR);
    Cluster c = r.cluster("outbound|9080||reviews.default.svc.cluster.local").orElseThrow();
    assertThat(c.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
    CommonTlsContext tls = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class).getCommonTlsContext();
    assertThat(tls.getTlsCertificateSdsSecretConfigs(0).getName()).isEqualTo("default");
    assertThat(tls.getTlsCertificateSdsSecretConfigs(0).getSdsConfig().hasAds()).isTrue();
    assertThat(tls.getCombinedValidationContext().getValidationContextSdsSecretConfig().getName()).isEqualTo("ROOTCA");
    assertThat(tls.getCombinedValidationContext().getDefaultValidationContext().getMatchTypedSubjectAltNamesList())
        .extracting(m -> m.getMatcher().getExact()).containsExactly(REVIEWS_SA);
    // Inbound: one chain that requires a client certificate.
    Listener in = r.listener("10.0.0.1_9080").orElseThrow();
    assertThat(in.getFilterChainsList()).hasSize(1);
    DownstreamTlsContext down = unpack(in.getFilterChains(0).getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
    assertThat(down.getRequireClientCertificate().getValue()).isTrue();
    assertThat(down.getCommonTlsContext().getValidationContextSdsSecretConfig().getName()).isEqualTo("ROOTCA");
    assertThat(ResourceValidator.validate(r)).isEmpty();
  }

  @Test
  void permissivePortAcceptsTlsAndPlaintextThroughTlsInspector() throws Exception {
    ProxyResources r = server(MtlsMode.STRICT, Map.of("auth.istio.io/9080", "PERMISSIVE"), null).resourcesFor(SIDECAR);
    Listener in = r.listener("10.0.0.1_9080").orElseThrow();
    assertThat(in.getListenerFiltersList()).extracting(f -> f.getName()).containsExactly("envoy.filters.listener.tls_inspector");
    assertThat(in.getFilterChainsList()).extracting(f -> f.getFilterChainMatch().getTransportProtocol())
        .containsExactly("tls", "raw_buffer");
    FilterChain plain = in.getFilterChains(1);
    assertThat(plain.hasTransportSocket()).isFalse();
    // Clients keep plaintext to a PERMISSIVE port; the other port stays STRICT.
    assertThat(r.cluster("outbound|9080||reviews.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isFalse();
    assertThat(r.cluster("outbound|7070||reviews.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isTrue();
    assertThat(r.listener("10.0.0.1_7070").orElseThrow().getFilterChains(0).hasTransportSocket()).isTrue();
    assertThat(ResourceValidator.validate(r)).isEmpty();
  }

  @Test
  void disabledMeshWithStrictAnnotationOnlyThatPort() {
    ProxyResources r = server(MtlsMode.DISABLE, Map.of("auth.istio.io/7070", "MUTUAL_TLS"), new FakeSecrets()).resourcesFor(SIDECAR);
    assertThat(r.cluster("outbound|9080||reviews.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isFalse();
    assertThat(r.cluster("outbound|9080||productpage.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isFalse();
    assertThat(r.cluster("outbound|7070||reviews.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isTrue();
    assertThat(r.listener("10.0.0.1_9080").orElseThrow().getFilterChains(0).hasTransportSocket()).isFalse();
  }

  @Test
  void badModeAnnotationIsReportedByNameAndTheMeshModeApplies() throws Exception {
    XdsServer s = server(MtlsMode.STRICT, Map.of("auth.istio.io/9080", "MUTUAL"), null);
    s.markSynced();
    ProxyResources r = s.resourcesFor(SIDECAR);
    assertThat(r.cluster("outbound|9080||reviews.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isTrue();
    // The full push records it.
    for (int i = 0; i < 200 && s.mtlsErrors().isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(s.mtlsErrors()).singleElement().asString()
        .contains("reviews.default.svc.cluster.local", "auth.istio.io/9080", "'MUTUAL'", "MUTUAL_TLS or STRICT");
    assertThat(s.stats().mtlsConfigErrors()).isEqualTo(1);
  }

  @Test
  void proxylessClientsGetCertificateProviderInstancesAndServersGetTheirListener() throws Exception {
    XdsServer s = server(MtlsMode.STRICT, Map.of(), null);
    ProxyResources client = s.resourcesFor("grpc-client");
    Cluster c = client.cluster("outbound|7070||reviews.default.svc.cluster.local").orElseThrow();
    CommonTlsContext tls = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class).getCommonTlsContext();
    assertThat(tls.getTlsCertificateProviderInstance().getInstanceName()).isEqualTo("default");
    assertThat(tls.getTlsCertificateProviderInstance().getCertificateName()).isEqualTo("default");
    assertThat(tls.getValidationContext().getCaCertificateProviderInstance().getCertificateName()).isEqualTo("ROOTCA");
    assertThat(tls.getValidationContext().getMatchSubjectAltNamesList()).extracting(m -> m.getExact()).containsExactly(REVIEWS_SA);
    assertThat(client.listeners()).noneMatch(l -> l.getName().startsWith("grpc/server"));

    ProxyResources srv = s.resourcesFor("proxyless~10.0.0.1~reviews-1.default~default.svc.cluster.local");
    Listener l = srv.listener(Translator.proxylessServerName("0.0.0.0", 7070)).orElseThrow();
    DownstreamTlsContext down = unpack(l.getFilterChains(0).getTransportSocket().getTypedConfig(), DownstreamTlsContext.class);
    assertThat(down.getRequireClientCertificate().getValue()).isTrue();
    assertThat(down.getCommonTlsContext().getTlsCertificateProviderInstance().getInstanceName()).isEqualTo("default");
    assertThat(srv.listener(Translator.proxylessServerName("10.0.0.1", 9080))).isPresent();
    // The client view is shared, not copied, by proxyless servers.
    assertThat(srv.clusters()).isEqualTo(client.clusters());
    assertThat(ResourceValidator.validate(srv)).isEmpty();
    assertThat(ResourceValidator.validate(client)).isEmpty();
  }

  @Test
  void sidecarsOfDifferentIdentitiesShareTheirTlsClusters() throws Exception {
    server(MtlsMode.STRICT, Map.of("auth.istio.io/9080", "PERMISSIVE"), null);
    PushContext ctx = new PushContext(registry, new MemoryConfigStore(), XdsOptions.defaults(), new EndpointIndex(),
        new MeshSecurity(MtlsMode.STRICT, null));
    ProxyResources reviews = translate(ctx, SIDECAR);
    ProxyResources product = translate(ctx, "sidecar~10.0.0.2~productpage-1.default~default.svc.cluster.local");
    // The cluster's TLS names the destination's accounts and the sidecar's own SDS secret by
    // name only, so the same instance serves both identities.
    for (String name : List.of("outbound|7070||reviews.default.svc.cluster.local",
        "outbound|9080||productpage.default.svc.cluster.local")) {
      Cluster a = reviews.cluster(name).orElseThrow();
      assertThat(product.cluster(name).orElseThrow()).isSameAs(a);
      assertThat(a.getTransportSocket().getTypedConfig().toString()).doesNotContain("10.0.0.");
    }
    assertThat(unpack(reviews.cluster("outbound|9080||productpage.default.svc.cluster.local").orElseThrow()
        .getTransportSocket().getTypedConfig(), UpstreamTlsContext.class).getCommonTlsContext()
        .getCombinedValidationContext().getDefaultValidationContext().getMatchTypedSubjectAltNamesList())
        .extracting(m -> m.getMatcher().getExact()).containsExactly(PRODUCT_SA);
  }

  private ProxyResources translate(PushContext ctx, String nodeId) {
    ProxyNode node = ProxyNode.parse(nodeId);
    return new Translator(ctx).translate(node, registry.hostInstances(List.of(node.ip())));
  }

  @Test
  void withoutMeshSecurityAnnotationsAreIgnoredAndNothingIsTls() throws Exception {
    server(MtlsMode.DISABLE, Map.of("auth.istio.io/7070", "MUTUAL_TLS", "auth.istio.io/9080", "junk"), null);
    server.close();
    server = new XdsServer(registry, new MemoryConfigStore(), XdsOptions.defaults());
    server.markSynced();
    ProxyResources r = server.resourcesFor(SIDECAR);
    assertThat(r.clusters()).noneMatch(Cluster::hasTransportSocket);
    assertThat(r.listeners()).allSatisfy(l -> assertThat(l.getFilterChainsList()).noneMatch(FilterChain::hasTransportSocket));
    assertThat(new PushContext(registry, new MemoryConfigStore(), XdsOptions.defaults(), new EndpointIndex(),
        MeshSecurity.disabled()).mtlsErrors).isEmpty();
  }

  @Test
  void strictServiceWithoutServiceAccountsStaysStrictAndIsReported() throws Exception {
    XdsServer s = server(MtlsMode.STRICT, Map.of(), new FakeSecrets());
    Port http = new Port("http", 8080, Protocol.HTTP);
    Service legacy = Service.of("legacy.default.svc.cluster.local", "10.1.0.7", List.of(http))
        .withAnnotations(Map.of("auth.istio.io/8080x", "x\n".repeat(500)));
    registry.putService(legacy);
    registry.setInstances(legacy.hostname(), List.of(
        new ServiceInstance(new NetworkEndpoint("10.0.0.7", 8080, http), legacy, Labels.EMPTY, null, null)));
    s.markSynced();
    ProxyResources r = s.resourcesFor(SIDECAR);
    assertThat(r.cluster("outbound|8080||legacy.default.svc.cluster.local").orElseThrow().hasTransportSocket()).isTrue();
    Set<String> errors = new PushContext(registry, new MemoryConfigStore(), XdsOptions.defaults(), new EndpointIndex(),
        new MeshSecurity(MtlsMode.STRICT, new FakeSecrets())).mtlsErrors;
    assertThat(errors).anySatisfy(e -> assertThat(e).contains("legacy.default.svc.cluster.local", "port 8080 is STRICT",
        "no service account", "auth.istio.io/8080: PERMISSIVE or DISABLE"));
    // A garbage annotation is shown short and printable, never as its 1000 characters.
    assertThat(errors).anySatisfy(e -> assertThat(e).contains("'8080x' is not a port number").hasSizeLessThan(300)
        .doesNotContain("\n"));
  }

  /** A secret source that knows what it was asked. */
  static final class FakeSecrets implements SecretSource {
    final List<String> asked = new CopyOnWriteArrayList<>();
    final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    volatile @Nullable WorkloadCertificate cert;

    @Override
    public @Nullable WorkloadCertificate certificate(String spiffeId) {
      asked.add(spiffeId);
      return cert;
    }

    @Override
    public void onChange(Runnable listener) {
      listeners.add(listener);
    }

    void issue(String id) {
      cert = new WorkloadCertificate(id, "chain", "key", "root", Instant.now().plusSeconds(3600));
      listeners.forEach(Runnable::run);
    }
  }
}
