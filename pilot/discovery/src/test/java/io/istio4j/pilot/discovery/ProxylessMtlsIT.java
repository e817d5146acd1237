package io.istio4j.pilot.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.KeyAlgorithm;
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
import io.istio4j.pilot.xds.XdsOptions;
import io.istio4j.pilot.xds.XdsServer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's xDS server ({@code XdsServerBuilder}) and client ({@code xds:///}) configured by Pilot,
 * with certificates a real CA issued to Pilot, fetched from Pilot over SDS and written to files the
 * bootstrap's {@code file_watcher} certificate provider reads (as Istio's proxyless agent does).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES) // XdsServerBuilder.start() waits for its listener without a limit
class ProxylessMtlsIT {
  static final String TOKEN = "pilot-token-0123456789abcdef";
  static final String ECHO_SA = "spiffe://cluster.local/ns/default/sa/echo";
  static final String CLIENT_SA = "spiffe://cluster.local/ns/default/sa/client";
  static final String IMPOSTOR_SA = "spiffe://cluster.local/ns/default/sa/impostor";
  static final String HOST = "echo.default.svc.cluster.local";
  static final String SERVER_NODE = "proxyless~127.0.0.1~echo-1.default~default.svc.cluster.local";
  static final String CLIENT_NODE = "proxyless~127.0.0.2~client-1.default~default.svc.cluster.local";
  static final String IMPOSTOR_NODE = "proxyless~127.0.0.3~impostor-1.default~default.svc.cluster.local";
  static final AtomicInteger SCHEMES = new AtomicInteger();

  @TempDir
  Path dir;

  final List<AutoCloseable> closeLast = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  final MemoryServiceRegistry registry = new MemoryServiceRegistry("test");
  final AtomicReference<@Nullable String> peer = new AtomicReference<>();
  @Nullable Server echo;
  int echoPort;
  Server pilot;

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (echo != null) {
      echo.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (int i = closeLast.size() - 1; i >= 0; i--) {
      closeLast.get(i).close();
    }
  }

  /** A CA, Pilot with {@code mode} mesh-wide, and the echo service's registry entries. */
  void start(MtlsMode mode) throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, TOKEN + " " + ECHO_SA + " " + CLIENT_SA + " " + IMPOSTOR_SA + "\n");
    StaticTokenVerifier verifier = StaticTokenVerifier.load(tokens);
    CertificateAuthority authority = new CertificateAuthority(SelfSignedCa.loadOrCreate(
        new DirectoryCaStorage(dir.resolve("ca")),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", Duration.ofHours(1), Duration.ofDays(1));
    RunningCa ca = RunningCa.start(authority, 0, b -> b.tokenVerifier(verifier));
    closeLast.add(ca);
    CaCertificateSource certs = new CaCertificateSource(CaCertificateSource.Options.of(ca.address(),
        authority.bundle().root(), TOKEN));
    closeLast.add(certs);

    try (ServerSocket s = new ServerSocket(0)) {
      echoPort = s.getLocalPort();
    }
    Port grpc = new Port("grpc", 8080, Protocol.GRPC);
    Service echoService = Service.of(HOST, "10.1.0.1", List.of(grpc));
    registry.putService(echoService);
    registry.setInstances(HOST, List.of(new ServiceInstance(new NetworkEndpoint("127.0.0.1", echoPort, grpc),
        echoService, Labels.EMPTY, null, ECHO_SA)));
    // The client and the impostor are workloads too (their node IPs name their accounts).
    Port http = new Port("http", 9080, Protocol.HTTP);
    for (String[] w : new String[][] {{"client", "127.0.0.2", CLIENT_SA}, {"impostor", "127.0.0.3", IMPOSTOR_SA}}) {
      Service svc = Service.of(w[0] + ".default.svc.cluster.local", "10.1.0.9", List.of(http));
      registry.putService(svc);
      registry.setInstances(svc.hostname(), List.of(new ServiceInstance(new NetworkEndpoint(w[1], 9080, http),
          svc, Labels.EMPTY, null, w[2])));
    }
    registry.start();
    XdsServer xds = new XdsServer(registry, new MemoryConfigStore(),
        XdsOptions.defaults().withDebounce(Duration.ofMillis(20), Duration.ofMillis(1)), new MeshSecurity(mode, certs));
    closeLast.add(xds);
    registry.addListener(xds::onRegistryEvent);
    pilot = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(xds.adsService()).build().start();
    closeLast.add(() -> pilot.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    xds.markSynced();
  }

  /**
   * The agent's job: fetch the node's {@code default} and {@code ROOTCA} secrets from Pilot and write
   * them where the bootstrap's file_watcher provider reads them. Returns the bootstrap.
   */
  Map<String, Object> agent(String nodeId, String name) throws Exception {
    return agent(nodeId, nodeId, name);
  }

  /** {@link #agent} writing the secrets of {@code secretsOf} (another workload's: an impostor). */
  Map<String, Object> agent(String nodeId, String secretsOf, String name) throws Exception {
    ManagedChannel ch = Grpc.newChannelBuilder("127.0.0.1:" + pilot.getPort(), InsecureChannelCredentials.create()).build();
    channels.add(ch);
    BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(ch)
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
    requests.onNext(DiscoveryRequest.newBuilder().setNode(Node.newBuilder().setId(secretsOf))
        .setTypeUrl("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret")
        .addResourceNames("default").addResourceNames("ROOTCA").build());
    DiscoveryResponse r = responses.poll(60, TimeUnit.SECONDS);
    assertThat(r).as("secrets for %s", secretsOf).isNotNull();
    requests.onCompleted();
    Path certs = Files.createDirectories(dir.resolve(name));
    for (var any : r.getResourcesList()) {
      Secret s = any.unpack(Secret.class);
      if (s.getName().equals("default")) {
        Files.writeString(certs.resolve("cert-chain.pem"), s.getTlsCertificate().getCertificateChain().getInlineString());
        Files.writeString(certs.resolve("key.pem"), s.getTlsCertificate().getPrivateKey().getInlineString());
      } else {
        Files.writeString(certs.resolve("root-cert.pem"), s.getValidationContext().getTrustedCa().getInlineString());
      }
    }
    assertThat(certs.resolve("cert-chain.pem")).exists();
    assertThat(certs.resolve("root-cert.pem")).exists();
    return Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + pilot.getPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", nodeId, "cluster", "it"),
        "server_listener_resource_name_template", "grpc/server?xds.resource.listening_address=%s",
        "certificate_providers", Map.of("default", Map.of("plugin_name", "file_watcher", "config", Map.of(
            "certificate_file", certs.resolve("cert-chain.pem").toString(),
            "private_key_file", certs.resolve("key.pem").toString(),
            "ca_certificate_file", certs.resolve("root-cert.pem").toString(),
            "refresh_interval", "60s"))));
  }

  /** The echo server (gRPC health service) through XdsServerBuilder, presenting {@code certsOf}'s certificate. */
  void startEcho(String certsOf) throws Exception {
    Map<String, Object> bootstrap = agent(SERVER_NODE, certsOf, "server");
    // Records who called, from the TLS session (none for plaintext).
    ServerInterceptor whoCalled = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SSLSession ssl = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        peer.set(ssl == null ? "plaintext" : uriSan(ssl));
        return next.startCall(call, headers);
      }
    };
    HealthStatusManager health = new HealthStatusManager();
    BlockingQueue<String> serving = new LinkedBlockingQueue<>();
    echo = XdsServerBuilder.forPort(echoPort, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap)
        .xdsServingStatusListener(new XdsServerBuilder.XdsServingStatusListener() {
          @Override
          public void onServing() {
            serving.add("serving");
          }

          @Override
          public void onNotServing(Throwable t) {
            serving.add("not serving: " + t);
          }
        })
        .addService(ServerInterceptors.intercept(health.getHealthService(), whoCalled))
        .build()
        .start();
    assertThat(serving.poll(60, TimeUnit.SECONDS)).as("XdsServer state").isEqualTo("serving");
  }

  static String uriSan(SSLSession ssl) {
    try {
      Certificate[] chain = ssl.getPeerCertificates();
      for (List<?> san : ((X509Certificate) chain[0]).getSubjectAlternativeNames()) {
        if (((Integer) san.get(0)) == 6) {
          return (String) san.get(1);
        }
      }
      return "no URI SAN";
    } catch (SSLPeerUnverifiedException e) {
      return "no client certificate";
    } catch (CertificateParsingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An {@code xds:///} channel to the echo service for the client workload, with xDS security. */
  ManagedChannel xdsClient() throws Exception {
    Map<String, Object> bootstrap = agent(CLIENT_NODE, "client");
    String scheme = "xds-mtls-" + SCHEMES.incrementAndGet();
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel ch = Grpc.newChannelBuilder(scheme + ":///" + HOST + ":8080",
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    channels.add(ch);
    return ch;
  }

  /** A client without the mesh: plaintext straight to the echo server's port. */
  ManagedChannel plaintextClient() {
    ManagedChannel ch = Grpc.newChannelBuilder("127.0.0.1:" + echoPort, InsecureChannelCredentials.create()).build();
    channels.add(ch);
    return ch;
  }

  static String causes(Throwable t) {
    StringBuilder b = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      b.append(c).append(" <- ");
    }
    return b.toString();
  }

  static HealthCheckResponse.ServingStatus check(ManagedChannel ch) {
    return HealthGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  @Test
  void strictMutualTlsCarriesTheClientsSpiffeIdAndRefusesPlaintext() throws Exception {
    start(MtlsMode.STRICT);
    startEcho(SERVER_NODE);
    ManagedChannel mesh = xdsClient();
    assertThat(check(mesh)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(peer.get()).as("the client's identity as the server sees it").isEqualTo(CLIENT_SA);

    peer.set(null);
    assertThatThrownBy(() -> check(plaintextClient())).isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(peer.get()).as("no plaintext call reached the service").isNull();
  }

  @Test
  void aServerWhoseIdentityIsNotTheServicesAccountIsRefusedByTheClient() throws Exception {
    start(MtlsMode.STRICT);
    // The echo port is served with the impostor's certificate: valid, from the same CA, wrong account.
    startEcho(IMPOSTOR_NODE);
    ManagedChannel mesh = xdsClient();
    assertThatThrownBy(() -> check(mesh)).isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE))
        .satisfies(e -> assertThat(causes(e)).as("why the handshake failed").contains("Peer certificate SAN check failed"));
    assertThat(peer.get()).as("no call reached the impostor").isNull();
  }

  @Test
  void permissiveAcceptsAPlaintextClientAndMeshClientsUsePlaintextToo() throws Exception {
    start(MtlsMode.PERMISSIVE);
    startEcho(SERVER_NODE);
    assertThat(check(plaintextClient())).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(peer.get()).isEqualTo("plaintext");
    peer.set(null);
    assertThat(check(xdsClient())).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    // gRPC servers cannot detect TLS (gRFC A36), so PERMISSIVE is plaintext for proxyless workloads.
    assertThat(peer.get()).isEqualTo("plaintext");
  }
}
