package io.istio4j.mixerclient;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.ReportResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** {@link MixerTransport} over a gRPC channel to {@code istio.mixer.v1.Mixer}. */
final class GrpcTransport implements MixerTransport {

  private final Channel channel;
  private final @Nullable ManagedChannel owned;

  GrpcTransport(Channel channel, @Nullable ManagedChannel owned) {
    this.channel = channel;
    this.owned = owned;
  }

  @Override
  public CompletableFuture<CheckResponse> check(CheckRequest request, Map<String, String> headers,
      long timeoutNanos) {
    ClientCall<CheckRequest, CheckResponse> call = channel.newCall(MixerGrpc.getCheckMethod(),
        CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS));
    if (!headers.isEmpty()) {
      call = new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
        @Override
        public void start(Listener<CheckResponse> listener, Metadata metadata) {
          headers.forEach((k, v) -> metadata.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
          super.start(listener, metadata);
        }
      };
    }
    return unary(call, request);
  }

  @Override
  public CompletableFuture<Void> report(ReportRequest request, long timeoutNanos) {
    MethodDescriptor<ReportRequest, ReportResponse> method = MixerGrpc.getReportMethod();
    return unary(channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(timeoutNanos, TimeUnit.NANOSECONDS)),
        request).thenApply(r -> null);
  }

  private static <Q, R> CompletableFuture<R> unary(ClientCall<Q, R> call, Q request) {
    CompletableFuture<R> f = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(call, request, new StreamObserver<>() {
      @Override
      public void onNext(R value) {
        f.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        // onNext completed the future; a call that ends without a message fails in onError.
      }
    });
    return f;
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.shutdown();
      try {
        if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
          owned.shutdownNow();
        }
      } catch (InterruptedException e) {
        owned.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
  }
}
