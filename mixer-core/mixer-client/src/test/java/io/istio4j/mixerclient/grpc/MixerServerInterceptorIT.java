package io.istio4j.mixerclient.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.ServerCalls;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixerclient.Attributes;
import io.istio4j.mixerclient.MixerClient;
import io.istio4j.mixerclient.TestMixer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A gRPC service behind the interceptor, checked and reported by a real Mixer. */
class MixerServerInterceptorIT {

  static final MethodDescriptor<byte[], byte[]> SAY = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("test.Echo/Say")
      .setRequestMarshaller(RawMarshaller.INSTANCE)
      .setResponseMarshaller(RawMarshaller.INSTANCE)
      .build();

  @TempDir
  static Path dir;

  static TestMixer mixer;
  static MixerClient client;
  static Server server;
  static ManagedChannel channel;
  static final AtomicInteger served = new AtomicInteger();

  @BeforeAll
  static void start() throws IOException {
    mixer = TestMixer.start(dir);
    client = MixerClient.builder().target(mixer.target()).reportBatch(1000, Duration.ofMillis(10)).build();
    ServerServiceDefinition echo = ServerServiceDefinition.builder("test.Echo")
        .addMethod(SAY, ServerCalls.asyncUnaryCall((request, observer) -> {
          served.incrementAndGet();
          observer.onNext(request);
          observer.onCompleted();
        }))
        .build();
    Attributes fixed = Attributes.builder()
        .put("destination.service", "ratings.default.svc.cluster.local")
        .put("source.service", "reviews.default.svc.cluster.local")
        .build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ServerInterceptors.intercept(echo, new MixerServerInterceptor(client, fixed, null, 0)))
        .build()
        .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    client.close();
    mixer.close();
  }

  static byte[] say(String user, String text) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("x-user", Metadata.ASCII_STRING_MARSHALLER), user);
    return ClientCalls.blockingUnaryCall(
        ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md)), SAY,
        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void allowedCallsReachTheServiceAndAreReported() {
    long before = client.stats().reportsQueued();
    assertThat(new String(say("jason", "hello"), StandardCharsets.UTF_8)).isEqualTo("hello");
    assertThat(new String(say("jason", "again"), StandardCharsets.UTF_8)).isEqualTo("again");
    assertThat(client.stats().checkCacheHits()).isGreaterThan(0);
    assertThat(client.stats().reportsQueued() - before).isEqualTo(2);
  }

  @Test
  void deniedCallsGetMixersStatusAndNeverReachTheService() {
    int servedBefore = served.get();
    assertThatThrownBy(() -> say("mallory", "hi"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("Not allowed");
        });
    assertThat(served.get()).isEqualTo(servedBefore);
  }
}
