package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
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
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code pilot-discovery discovery --caAddress ...} as the command line builds it: certificates from
 * a real CA served over SDS, their state on {@code /metrics} and {@code /debug/certz}, and the CA
 * down when Pilot starts.
 */
class PilotMtlsIT {
  static final String TOKEN = "pilot-token-0123456789abcdef";
  static final String REVIEWS = "spiffe://cluster.local/ns/default/sa/reviews";
  static final String SIDECAR = "sidecar~10.0.0.1~reviews-1.default~default.svc.cluster.local";

  @TempDir
  Path dir;

  final TestRegistry registry = new TestRegistry("file:/srv/registry");
  final HttpClient http = HttpClient.newHttpClient();
  PilotServer pilot;
  ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (pilot != null) {
      pilot.close();
    }
  }

  RunningCa startCa(int port) throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TOKEN + " " + REVIEWS + "\n");
    StaticTokenVerifier verifier = StaticTokenVerifier.load(tokens);
    return RunningCa.start(authority(), port, b -> b.tokenVerifier(verifier));
  }

  /** The same CA (root in {@code dir/ca}) each time it is started. */
  CertificateAuthority authority() throws Exception {
    return new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(dir.resolve("ca")),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", Duration.ofHours(1), Duration.ofDays(1));
  }

  void startPilot(int caPort, String rootPem) throws Exception {
    Files.writeString(dir.resolve("root-cert.pem"), rootPem);
    Files.writeString(dir.resolve("token"), TOKEN + "\n");
    DiscoveryCommand cmd = new DiscoveryCommand();
    new CommandLine(cmd).parseArgs("--grpcPort", "0", "--address", "127.0.0.1", "--monitoringPort", "0",
        "--monitoringAddress", "127.0.0.1", "--registries", "file:///srv/registry",
        "--caAddress", "localhost:" + caPort, "--caRootCert", dir.resolve("root-cert.pem").toString(),
        "--caTokenFile", dir.resolve("token").toString(), "--mtlsMode", "STRICT");
    DiscoveryOptions options = cmd.options();
    assertThat(options.mesh().mtls()).isNotNull();
    assertThat(options.mesh().mtls().toString()).doesNotContain(TOKEN);
    Port http = new Port("http", 9080, Protocol.HTTP);
    Service reviews = Service.of("reviews.default.svc.cluster.local", "10.1.0.1", List.of(http));
    registry.memory.putService(reviews);
    registry.memory.setInstances(reviews.hostname(), List.of(
        new ServiceInstance(new NetworkEndpoint("10.0.0.1", 9080, http), reviews, Labels.EMPTY, null, REVIEWS)));
    pilot = PilotServer.start(options, PilotComponents.standard()
        .withRegistries((spec, o) -> registry)
        .withAggregator(list -> list.get(0))
        .withConfigStores((url, o) -> new MemoryConfigStore()));
    registry.sync();
    assertThat(pilot.awaitReady(Duration.ofSeconds(30))).isTrue();
    channel = Grpc.newChannelBuilder("127.0.0.1:" + pilot.grpcPort(), InsecureChannelCredentials.create()).build();
  }

  /** The SDS answer a sidecar gets for {@code default} and {@code ROOTCA}. */
  DiscoveryResponse sds() throws InterruptedException {
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
    requests.onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId(SIDECAR))
        .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
        .addResourceNames("default").addResourceNames("ROOTCA").build());
    DiscoveryResponse r = responses.poll(60, TimeUnit.SECONDS);
    requests.onCompleted();
    return r;
  }

  String get(String path) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + pilot.monitoringPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 6000 && !condition.getAsBoolean(); i++) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  @Test
  void certificatesFromTheCaAreServedOverSdsAndShownOnMetricsAndCertz() throws Exception {
    try (RunningCa ca = startCa(0)) {
      startPilot(ca.server().grpcPort(), ca.rootPem());
      DiscoveryResponse r = sds();
      assertThat(r).as("SDS answer").isNotNull();
      assertThat(r.getResourcesList()).extracting(a -> a.unpack(Secret.class).getName())
          .containsExactlyInAnyOrder("default", "ROOTCA");
      String certz = get("/debug/certz");
      assertThat(certz).startsWith("200 ").contains("\"enabled\" : true", "\"mode\" : \"STRICT\"",
          "\"identity\" : \"" + REVIEWS + "\"", "\"lastError\" : null", "\"issued\" : 1");
      assertThat(certz).doesNotContain(TOKEN);
      String metrics = get("/metrics");
      assertThat(metrics).contains("pilot_mtls_certificates_issued_total 1.0")
          .contains("pilot_mtls_certificate_expiry_timestamp_seconds{identity=\"" + REVIEWS + "\"}")
          .contains("pilot_mtls_config_errors 0.0")
          .doesNotContain("pilot_mtls_certificate_failing{");
    }
  }

  @Test
  void caDownAtStartLeavesPilotServingAndTheErrorOnCertz() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    startPilot(port, Pem.encode(authority().bundle().root()));
    assertThat(get("/readyz")).startsWith("200 ");
    // Asking makes Pilot request the identity's certificate; the CA is not there.
    BlockingQueue<DiscoveryResponse> none = new LinkedBlockingQueue<>();
    AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        none.add(r);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    }).onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId(SIDECAR))
        .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
        .addResourceNames("default").build());
    await("the CA failure on /debug/certz", () -> {
      try {
        return get("/debug/certz").contains("UNAVAILABLE");
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(get("/metrics")).contains("pilot_mtls_certificate_failing{identity=\"" + REVIEWS + "\"} 1.0");
    assertThat(none).as("no secret without a certificate").isEmpty();
    // The CA comes up: the waiting sidecar gets its secret without asking again.
    try (RunningCa ca = startCa(port)) {
      DiscoveryResponse r = none.poll(60, TimeUnit.SECONDS);
      assertThat(r).as("the secret once the CA answers").isNotNull();
      assertThat(r.getResources(0).unpack(Secret.class).getName()).isEqualTo("default");
      await("the failure cleared", () -> {
        try {
          return get("/debug/certz").contains("\"lastError\" : null");
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
    }
  }
}
