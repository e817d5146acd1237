package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.ca.auth.StaticTokenVerifier;
import io.istio4j.ca.server.testing.RunningCa;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.xds.MeshSecurity;
import io.istio4j.pilot.xds.MtlsMode;
import io.istio4j.pilot.xds.WorkloadCertificate;
import io.istio4j.pilot.xds.XdsOptions;
import io.istio4j.pilot.xds.XdsServer;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pilot's workload certificates from a real CA through its gRPC API, served over SDS on the ADS
 * stream: the CA down at start and mid-run, an identity the CA refuses.
 */
class MeshMtlsCaIT {
  static final String TOKEN = "pilot-token-0123456789abcdef";
  static final String REVIEWS = "spiffe://cluster.local/ns/default/sa/reviews";
  static final String UNKNOWN = "spiffe://cluster.local/ns/default/sa/unknown";

  @TempDir
  Path dir;

  CertificateAuthority authority() throws Exception {
    return new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir.resolve("ca")),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", Duration.ofHours(1), Duration.ofDays(1));
  }

  RunningCa startCa(CertificateAuthority ca, int port) throws Exception {
    Path tokens = dir.resolve("tokens");
    // Pilot's token proves the identities it may ask for (the CA grants only SANs the caller holds).
    Files.writeString(tokens, TOKEN + " " + REVIEWS + "\n");
    StaticTokenVerifier verifier = StaticTokenVerifier.load(tokens);
    return RunningCa.start(ca, port, b -> b.tokenVerifier(verifier));
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 3000 && !condition.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  static CaCertificateSource source(int port, X509Certificate root) {
    return new CaCertificateSource(new CaCertificateSource.Options("localhost:" + port, "istio-ca", root, TOKEN,
        Duration.ZERO, 0.5, Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5)));
  }

  @Test
  void caDownAtStartIsRetriedThenTheCertificateIsIssuedAndKeptWhenTheCaGoesDown() throws Exception {
    CertificateAuthority ca = authority();
    int port = freePort();
    try (CaCertificateSource source = source(port, ca.bundle().root())) {
      assertThat(source.certificate(REVIEWS)).isNull();
      await("failed attempts while the CA is down", () -> source.failures() >= 2);
      assertThat(source.failing()).containsKey(REVIEWS);
      assertThat(source.failing().get(REVIEWS)).startsWith("UNAVAILABLE");

      WorkloadCertificate cert;
      try (RunningCa running = startCa(ca, port)) {
        await("certificate issued once the CA is up", () -> source.certificate(REVIEWS) != null);
        cert = source.certificate(REVIEWS);
        X509Certificate leaf = Pem.readCertificates(cert.certChainPem(), "chain").get(0);
        assertThat(leaf.getSubjectAlternativeNames()).anySatisfy(san -> assertThat(san.get(1)).isEqualTo(REVIEWS));
        leaf.verify(ca.bundle().root().getPublicKey());
        assertThat(Pem.readCertificate(cert.rootCertPem(), "root")).isEqualTo(ca.bundle().root());
        assertThat(source.failing()).isEmpty();
        assertThat(running.server().metrics()).isNotNull();
      }
      // CA gone mid-run: the certificate stays until it expires.
      assertThat(source.certificate(REVIEWS)).isSameAs(cert);
      assertThat(source.expiries()).containsKey(REVIEWS);
    }
  }

  @Test
  void aWrongTrustRootIsReportedAsSuchAndNothingIsIssued() throws Exception {
    CertificateAuthority ca = authority();
    CertificateAuthority other = new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir.resolve("other")),
        new SelfSignedCa.RootOptions("other.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", Duration.ofHours(1), Duration.ofDays(1));
    try (RunningCa running = startCa(ca, 0);
        CaCertificateSource source = source(running.server().grpcPort(), other.bundle().root())) {
      assertThat(source.certificate(REVIEWS)).isNull();
      await("a failure recorded", () -> source.failing().containsKey(REVIEWS));
      // The operator sees that trust failed, not only gRPC's "io exception".
      assertThat(source.failing().get(REVIEWS)).startsWith("UNAVAILABLE").containsIgnoringCase("certificat");
      assertThat(source.certificate(REVIEWS)).isNull();
    }
  }

  @Test
  void anExpiredCertificateIsNoLongerServed() throws Exception {
    CertificateAuthority ca = authority();
    MutableClock clock = new MutableClock();
    try (RunningCa running = startCa(ca, 0);
        CaCertificateSource source = new CaCertificateSource(new CaCertificateSource.Options("localhost:"
            + running.server().grpcPort(), "istio-ca", ca.bundle().root(), TOKEN, Duration.ZERO, 0.5,
            Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5)), KeyAlgorithm.ECDSA_P256, clock)) {
      source.certificate(REVIEWS);
      await("issued", () -> source.certificate(REVIEWS) != null);
      WorkloadCertificate cert = source.certificate(REVIEWS);
      running.close();
      // The CA is gone and the certificate's time has passed: a proxy could not use it.
      clock.now = cert.notAfter().plusSeconds(1);
      assertThat(source.certificate(REVIEWS)).isNull();
      assertThat(source.expiries()).containsEntry(REVIEWS, cert.notAfter().getEpochSecond());
    }
  }

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    volatile Instant now = Instant.now();

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void anIdentityTheCaRefusesIsReportedAndNeverServed() throws Exception {
    CertificateAuthority ca = authority();
    try (RunningCa running = startCa(ca, 0);
        CaCertificateSource source = source(running.server().grpcPort(), ca.bundle().root())) {
      assertThat(source.certificate(UNKNOWN)).isNull();
      await("a refusal recorded", () -> source.failing().containsKey(UNKNOWN));
      assertThat(source.failing().get(UNKNOWN)).startsWith("PERMISSION_DENIED").contains(UNKNOWN);
      assertThat(source.certificate(UNKNOWN)).isNull();
    }
  }

  @Test
  void sidecarGetsItsServiceAccountsCertificateAndTheRootOverSds() throws Exception {
    CertificateAuthority ca = authority();
    MemoryServiceRegistry registry = new MemoryServiceRegistry("test");
    Port http = new Port("http", 9080, Protocol.HTTP);
    Service reviews = Service.of("reviews.default.svc.cluster.local", "10.1.0.1", List.of(http));
    registry.putService(reviews);
    registry.setInstances(reviews.hostname(), List.of(
        new ServiceInstance(new NetworkEndpoint("10.0.0.1", 9080, http), reviews, Labels.EMPTY, null, REVIEWS)));
    String name = InProcessServerBuilder.generateName();
    try (RunningCa running = startCa(ca, 0);
        CaCertificateSource source = source(running.server().grpcPort(), ca.bundle().root());
        XdsServer xds = new XdsServer(registry, new MemoryConfigStore(), XdsOptions.defaults(),
            new MeshSecurity(MtlsMode.STRICT, source))) {
      Server server = InProcessServerBuilder.forName(name).addService(xds.adsService()).build().start();
      ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
      try {
        xds.markSynced();
        BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(new StreamObserver<>() {
              @Override
              public void onNext(DiscoveryResponse r) {
                responses.add(r);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        requests.onNext(DiscoveryRequest.newBuilder()
            .setNode(Node.newBuilder().setId("sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local"))
            .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
            .addResourceNames("default").addResourceNames("ROOTCA").build());
        DiscoveryResponse r = responses.poll(30, TimeUnit.SECONDS);
        assertThat(r).as("SDS response").isNotNull();
        assertThat(r.getResourcesCount()).isEqualTo(2);
        Secret first = r.getResources(0).unpack(Secret.class);
        Secret second = r.getResources(1).unpack(Secret.class);
        Secret workload = first.getName().equals("default") ? first : second;
        Secret root = workload == first ? second : first;
        String chain = workload.getTlsCertificate().getCertificateChain().getInlineString();
        assertThat(Pem.readCertificates(chain, "chain").get(0).getSubjectAlternativeNames())
            .anySatisfy(san -> assertThat(san.get(1)).isEqualTo(REVIEWS));
        assertThat(workload.getTlsCertificate().getPrivateKey().getInlineString()).contains("PRIVATE KEY");
        assertThat(Pem.readCertificate(root.getValidationContext().getTrustedCa().getInlineString(), "root"))
            .isEqualTo(ca.bundle().root());
        requests.onCompleted();
      } finally {
        channel.shutdownNow();
        server.shutdownNow();
      }
    }
  }
}
