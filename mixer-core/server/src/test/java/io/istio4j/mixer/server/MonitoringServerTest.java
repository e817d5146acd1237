package io.istio4j.mixer.server;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.mixer.runtime.Readiness;
import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The monitoring port under stalled and surplus connections, and busy ports named in errors. */
class MonitoringServerTest {

  /** An answer that does not come within this is a failure: the endpoint is blocked. */
  private static final Duration PROMPTLY = Duration.ofSeconds(2);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(PROMPTLY).build();
  private final List<Socket> stalled = new ArrayList<>();

  @AfterEach
  void closeSockets() throws IOException {
    for (Socket s : stalled) {
      s.close();
    }
  }

  @Test
  void stalledConnectionsDoNotBlockHealthReadinessOrMetrics() throws Exception {
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral())) {
      stall(server.monitoringPort(), 4);

      assertThat(get(server.monitoringPort(), "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(server.monitoringPort(), "/readyz").statusCode()).isEqualTo(200);
      assertThat(get(server.monitoringPort(), "/metrics").body()).contains("jvm_memory_used_bytes");
      assertThat(get(server.monitoringPort(), "/debug/config").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void stalledConnectionsAreClosedAfterTheReadTimeout() throws Exception {
    MonitoringServer monitoring = new MonitoringServer("127.0.0.1", 0, new ServerMetrics().registry(),
        () -> Readiness.ready("serving"), () -> "{}\n").readTimeout(Duration.ofSeconds(1));
    try (monitoring) {
      monitoring.start();
      stall(monitoring.port(), 2);

      for (Socket s : stalled) {
        assertThat(closedByServer(s)).isTrue();
      }
      assertThat(get(monitoring.port(), "/healthz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void headAnswersWithoutABodyAndOtherMethodsAre405() throws Exception {
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral())) {
      URI readyz = URI.create("http://127.0.0.1:" + server.monitoringPort() + "/readyz");
      HttpResponse<String> head = http.send(HttpRequest.newBuilder(readyz).timeout(PROMPTLY)
          .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.body()).isEmpty();
      HttpResponse<String> delete = http.send(HttpRequest.newBuilder(readyz).timeout(PROMPTLY).DELETE().build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(delete.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void aBusyMonitoringPortIsNamedInTheError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      ServerOptions options = ServerOptions.ephemeral().withMonitoringAddress("", taken.getLocalPort());
      assertThatThrownBy(() -> MixerServer.start(options))
          .isInstanceOf(BindException.class)
          .hasMessage("cannot listen on 0.0.0.0:" + taken.getLocalPort() + " (monitoring --monitoringPort): "
              + "Address already in use");
    }
  }

  @Test
  void aBusyGrpcPortIsNamedInTheError() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      ServerOptions options = ServerOptions.ephemeral().withAddress("", taken.getLocalPort());
      assertThatThrownBy(() -> MixerServer.start(options))
          .isInstanceOf(BindException.class)
          .hasMessage("cannot listen on 0.0.0.0:" + taken.getLocalPort() + " (gRPC --port): "
              + "Address already in use");
    }
  }

  @Test
  void listensOnTheConfiguredAddresses() throws Exception {
    ServerOptions options = ServerOptions.ephemeral().withAddress("127.0.0.1", 0)
        .withMonitoringAddress("localhost", 0);
    try (MixerServer server = MixerServer.start(options)) {
      assertThat(get(server.monitoringPort(), "/healthz").statusCode()).isEqualTo(200);
      assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();
      assertThat(server.monitoringAddress().getAddress().isLoopbackAddress()).isTrue();
    }
  }

  /** Opens {@code n} connections that send nothing and {@code n} that send half a request line. */
  private void stall(int port, int n) throws IOException {
    for (int i = 0; i < n; i++) {
      Socket silent = new Socket("127.0.0.1", port);
      stalled.add(silent);
      Socket half = new Socket("127.0.0.1", port);
      half.getOutputStream().write("GET /healthz HTT".getBytes(US_ASCII));
      half.getOutputStream().flush();
      stalled.add(half);
    }
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(PROMPTLY).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static boolean closedByServer(Socket s) throws IOException {
    s.setSoTimeout(15_000);
    try {
      InputStream in = s.getInputStream();
      while (in.read() >= 0) {
        // up to the close
      }
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }
}
