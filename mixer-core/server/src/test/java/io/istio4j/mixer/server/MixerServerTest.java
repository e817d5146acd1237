package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.CallContext;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.MixerGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MixerServerTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void servesMonitoringEndpointsAndGrpcHealth() throws Exception {
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral())) {
      assertThat(get(server, "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
      assertThat(get(server, "/version").body()).contains("\"version\":\"");
      assertThat(get(server, "/nope").statusCode()).isEqualTo(404);

      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.getDefaultInstance()).getStatus())
            .isEqualTo(ServingStatus.SERVING);
        assertThat(HealthGrpc.newBlockingStub(ch)
            .check(HealthCheckRequest.newBuilder().setService("istio.mixer.v1.Mixer").build()).getStatus())
            .isEqualTo(ServingStatus.SERVING);
        MixerGrpc.newBlockingStub(ch).check(CheckRequest.getDefaultInstance());
      } finally {
        ch.shutdownNow();
      }
      String metrics = get(server, "/metrics").body();
      assertThat(metrics)
          .contains("grpc_server_handled_total{grpc_code=\"OK\",grpc_method=\"Check\",grpc_service=\"istio.mixer.v1.Mixer\",grpc_type=\"unary\"} 1.0")
          .contains("grpc_server_handling_seconds_bucket")
          .contains("jvm_memory_used_bytes");
    }
  }

  @Test
  void oversizedMessagesAreRefusedAndTheServerKeepsServing() throws Exception {
    ServerOptions small = new ServerOptions(0, 0, null, "istio-system", 1024, 16, Duration.ofSeconds(5));
    try (MixerServer server = MixerServer.start(small)) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        CompressedAttributes.Builder big = CompressedAttributes.newBuilder();
        for (int i = 0; i < 200; i++) {
          big.addWords("word-number-" + i);
        }
        MixerGrpc.MixerBlockingStub mixer = MixerGrpc.newBlockingStub(ch);
        assertThatThrownBy(() -> mixer.check(CheckRequest.newBuilder().setAttributes(big).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(mixer.check(CheckRequest.getDefaultInstance()).hasPrecondition()).isTrue();
      } finally {
        ch.shutdownNow();
      }
    }
  }

  @Test
  void gracefulShutdownLetsInFlightCallsFinishAndRefusesNewOnes() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger checks = new AtomicInteger();
    RequestProcessor slow = new RequestProcessor() {
      final NoRulesProcessor delegate = new NoRulesProcessor();

      @Override
      public CompletionStage<CheckResponse> check(DecodedCheckRequest request, CallContext context) {
        CheckResponse answer = delegate.answer(request);
        if (checks.incrementAndGet() != 1) {
          return CompletableFuture.completedFuture(answer);
        }
        entered.countDown(); // only the first call stays in flight, answered later, off the transport
        return CompletableFuture.supplyAsync(() -> {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return answer;
        });
      }

      @Override
      public CompletionStage<Void> report(DecodedReportRequest request, CallContext context) {
        return delegate.report(request, context);
      }
    };
    MixerServer server = MixerServer.start(ServerOptions.ephemeral(), slow);
    ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
    try {
      CompletableFuture<CheckResponse> inFlight = CompletableFuture.supplyAsync(
          () -> MixerGrpc.newBlockingStub(ch).check(CheckRequest.getDefaultInstance()));
      assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Boolean> stopped = CompletableFuture.supplyAsync(() -> {
        try {
          return server.shutdownGracefully();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.isReady() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(server.isReady()).isFalse();

      // New calls while the first is still in flight: on its draining connection and from a new
      // client. Readiness drops a moment before the gRPC server stops taking calls, so a call that
      // slips in between is answered; the next ones must be refused.
      for (boolean newClient : new boolean[] {false, true}) {
        ManagedChannel channel = newClient
            ? NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build() : ch;
        StatusRuntimeException refused = null;
        try {
          for (int attempt = 0; attempt < 50 && refused == null; attempt++) {
            try {
              MixerGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
                  .check(CheckRequest.getDefaultInstance());
              Thread.sleep(20);
            } catch (StatusRuntimeException e) {
              refused = e;
            }
          }
        } finally {
          if (newClient) {
            channel.shutdownNow();
          }
        }
        assertThat(refused).as("a new call during shutdown (new client: %s)", newClient).isNotNull();
        assertThat(refused.getStatus().getCode()).as(refused.toString()).isEqualTo(Status.Code.UNAVAILABLE);
      }
      int answered = checks.get();
      assertThat(stopped).as("still draining the first call").isNotDone();
      assertThat(inFlight).isNotDone();

      release.countDown();
      assertThat(inFlight.get(5, TimeUnit.SECONDS).getPrecondition().getValidUseCount()).isEqualTo(200);
      assertThat(stopped.get(5, TimeUnit.SECONDS)).isTrue();
      assertThat(checks.get()).as("refused calls never reached the processor").isEqualTo(answered);
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void aConfigStoreThatIsNotADirectoryIsAClearStartupError(@TempDir Path dir) {
    ServerOptions o = new ServerOptions(0, 0, "fs://" + dir.resolve("missing"), "istio-system",
        1 << 20, 16, Duration.ofSeconds(1));
    assertThatThrownBy(() -> MixerServer.start(o))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not a directory");
    ServerOptions redis = new ServerOptions(0, 0, "redis://localhost", "istio-system", 1 << 20, 16,
        Duration.ofSeconds(1));
    assertThatThrownBy(() -> MixerServer.start(redis))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("configStoreURL: redis://localhost (expected: fs://DIR, k8s:// or k8s:///path/to/kubeconfig)");
  }

  private static HttpResponse<String> get(MixerServer server, String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + server.monitoringPort() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
