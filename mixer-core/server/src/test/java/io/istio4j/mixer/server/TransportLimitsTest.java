package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientCall.Listener;
import io.grpc.Codec;
import io.grpc.Compressor;
import io.grpc.CompressorRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client gets for requests the transport refuses (corrupt gzip, a gzip bomb, too large), and
 * that they are counted like any other call.
 */
class TransportLimitsTest {

  private static final MethodDescriptor<byte[], byte[]> RAW_CHECK =
      MixerGrpc.getCheckMethod().toBuilder(RawMarshaller.INSTANCE, RawMarshaller.INSTANCE).build();

  /** Claims gzip but sends the bytes as they are: a frame no gzip reader accepts. */
  private static final Compressor NOT_GZIP = new Compressor() {
    @Override
    public String getMessageEncoding() {
      return "gzip";
    }

    @Override
    public OutputStream compress(OutputStream os) {
      return new FilterOutputStream(os);
    }
  };

  private MixerServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    server = MixerServer.start(new ServerOptions(0, 0, null, "istio-system", 64 * 1024, 16, Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    server.close();
  }

  private byte[] call(CompressorRegistry compressors, byte[] request) {
    channel = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext()
        .compressorRegistry(compressors).build();
    return ClientCalls.blockingUnaryCall(channel, RAW_CHECK, CallOptions.DEFAULT.withCompression("gzip"), request);
  }

  private static CompressorRegistry registry(Compressor c) {
    CompressorRegistry r = CompressorRegistry.newEmptyInstance();
    r.register(c);
    r.register(Codec.Identity.NONE);
    return r;
  }

  private String metrics() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://localhost:" + server.monitoringPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void aCorruptGzipFrameIsInvalidArgumentAndCounted() throws Exception {
    byte[] check = CheckRequest.newBuilder().setGlobalWordCount(3).build().toByteArray();
    assertThatThrownBy(() -> call(registry(NOT_GZIP), check))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).isEqualTo("request could not be decompressed: Not in GZIP format");
        });
    assertThat(metrics()).contains("grpc_server_handled_total{grpc_code=\"INVALID_ARGUMENT\",grpc_method=\"Check\","
        + "grpc_service=\"istio.mixer.v1.Mixer\",grpc_type=\"unary\"} 1.0");
  }

  @Test
  void aGzipBombIsResourceExhaustedAndCounted() throws Exception {
    CompressedAttributes.Builder big = CompressedAttributes.newBuilder();
    big.addWords("x".repeat(256 * 1024)); // 256 KiB of one letter, a few hundred bytes gzipped
    byte[] check = CheckRequest.newBuilder().setAttributes(big).build().toByteArray();
    assertThatThrownBy(() -> call(CompressorRegistry.getDefaultInstance(), check))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(metrics()).contains("grpc_server_handled_total{grpc_code=\"RESOURCE_EXHAUSTED\",grpc_method=\"Check\","
        + "grpc_service=\"istio.mixer.v1.Mixer\",grpc_type=\"unary\"} 1.0");
  }

  @Test
  void anUncompressedMessageOverTheLimitIsCounted() throws Exception {
    channel = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
    byte[] check = CheckRequest.newBuilder().setAttributes(CompressedAttributes.newBuilder()
        .addWords("x".repeat(100 * 1024))).build().toByteArray();
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, RAW_CHECK, CallOptions.DEFAULT, check))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(metrics()).contains("grpc_server_handled_total{grpc_code=\"RESOURCE_EXHAUSTED\",grpc_method=\"Check\","
        + "grpc_service=\"istio.mixer.v1.Mixer\",grpc_type=\"unary\"} 1.0");
  }

  @Test
  void aCallWhoseRequestNeverArrivesIsClosedAfterTheStreamIdleTimeout() throws Exception {
    server.close();
    server = MixerServer.start(new ServerOptions(0, 0, null, "istio-system", 64 * 1024, 16, Duration.ofSeconds(1),
        Duration.ofMillis(200), RuntimeOptions.DEFAULTS));
    channel = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
    ClientCall<byte[], byte[]> stalled = channel.newCall(RAW_CHECK, CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    stalled.start(new Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    stalled.request(1);
    stalled.sendMessage(CheckRequest.getDefaultInstance().toByteArray()); // and never the end of the request
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(status.getDescription()).contains("--streamIdleTimeout");
    // The server still answers calls that send their request.
    assertThat(ClientCalls.blockingUnaryCall(channel, RAW_CHECK, CallOptions.DEFAULT,
        CheckRequest.getDefaultInstance().toByteArray())).isNotNull();
    assertThat(metrics()).contains("grpc_server_handled_total{grpc_code=\"DEADLINE_EXCEEDED\",grpc_method=\"Check\","
        + "grpc_service=\"istio.mixer.v1.Mixer\",grpc_type=\"unary\"} 1.0");
  }
}
