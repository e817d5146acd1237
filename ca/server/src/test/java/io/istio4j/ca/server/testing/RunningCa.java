package io.istio4j.ca.server.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.server.CaServer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** A self-signed CA server on free ports for tests, with mTLS and plain-TLS client channels. */
public final class RunningCa implements AutoCloseable {

  private final CertificateAuthority ca;
  private final CaServer server;

  private RunningCa(CertificateAuthority ca, CaServer server) {
    this.ca = ca;
    this.server = server;
  }

  /** A CA whose root lives in {@code storage}, with 24h leaves (max 7d). */
  public static RunningCa start(Path storage, Consumer<CaServer.Builder> configure) throws IOException {
    return start(storage, Duration.ofHours(24), configure);
  }

  /** A CA whose root lives in {@code storage}, with leaves of {@code ttl} (max 7d). */
  public static RunningCa start(Path storage, Duration ttl, Consumer<CaServer.Builder> configure) throws IOException {
    CertificateAuthority ca = new CertificateAuthority(SelfSignedCa.loadOrCreate(new DirectoryCaStorage(storage),
        new SelfSignedCa.RootOptions("k8s.cluster.local", Duration.ofDays(365), KeyAlgorithm.ECDSA_P256, "cluster.local")),
        "cluster.local", ttl, Duration.ofDays(7).compareTo(ttl) < 0 ? ttl : Duration.ofDays(7));
    return start(ca, 0, configure);
  }

  /** A server for {@code ca} on {@code port} (0 for a free one). */
  public static RunningCa start(CertificateAuthority ca, int port, Consumer<CaServer.Builder> configure)
      throws IOException {
    CaServer.Builder b = CaServer.builder(ca).grpcPort(port).grpcHostnames(List.of("istio-ca", "localhost"))
        .monitoring("127.0.0.1", 0).shutdownGrace(Duration.ofSeconds(2));
    configure.accept(b);
    CaServer server = b.build();
    server.start();
    return new RunningCa(ca, server);
  }

  /** The CA. */
  public CertificateAuthority ca() {
    return ca;
  }

  /** The server. */
  public CaServer server() {
    return server;
  }

  /** The address clients dial. */
  public String address() {
    return "localhost:" + server.grpcPort();
  }

  /** The root as PEM. */
  public String rootPem() {
    return Pem.encode(ca.bundle().root());
  }

  /** A key and certificate for a service account, issued directly (a bootstrap identity). */
  public IssuedIdentity identity(String namespace, String serviceAccount) {
    return ca.issue(SpiffeId.forServiceAccount("cluster.local", namespace, serviceAccount), KeyAlgorithm.ECDSA_P256,
        Duration.ZERO);
  }

  /** A channel presenting {@code id} as its client certificate. */
  public ManagedChannel mtlsChannel(IssuedIdentity id) throws IOException {
    ChannelCredentials creds = TlsChannelCredentials.newBuilder()
        .keyManager(stream(id.certificate().certChainPem()), stream(id.keyPem()))
        .trustManager(stream(rootPem()))
        .build();
    return Grpc.newChannelBuilder(address(), creds).overrideAuthority("istio-ca").build();
  }

  /** A channel with no client certificate. */
  public ManagedChannel tlsChannel() throws IOException {
    ChannelCredentials creds = TlsChannelCredentials.newBuilder().trustManager(stream(rootPem())).build();
    return Grpc.newChannelBuilder(address(), creds).overrideAuthority("istio-ca").build();
  }

  /** GET on the monitoring port: status and body. */
  public HttpResponse<String> monitoring(String path) throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.monitoringPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Shuts a channel down and waits. */
  public static void close(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static ByteArrayInputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(UTF_8));
  }

  @Override
  public void close() {
    server.close();
  }
}
