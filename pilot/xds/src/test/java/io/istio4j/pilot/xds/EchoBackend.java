package io.istio4j.pilot.xds;

import com.google.protobuf.Empty;
import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** A real gRPC backend on a free port whose one method answers with the backend's version. */
final class EchoBackend implements AutoCloseable {
  static final MethodDescriptor<Empty, StringValue> WHO = MethodDescriptor.<Empty, StringValue>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY)
      .setFullMethodName("istio4j.test.Echo/Who")
      .setRequestMarshaller(ProtoUtils.marshaller(Empty.getDefaultInstance()))
      .setResponseMarshaller(ProtoUtils.marshaller(StringValue.getDefaultInstance()))
      .build();

  final String version;
  final Server server;

  EchoBackend(String version) throws IOException {
    this.version = version;
    ServerServiceDefinition def = ServerServiceDefinition.builder("istio4j.test.Echo")
        .addMethod(WHO, ServerCalls.asyncUnaryCall((req, out) -> {
          out.onNext(StringValue.of(version));
          out.onCompleted();
        }))
        .build();
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(def).build().start();
  }

  int port() {
    return server.getPort();
  }

  /** Calls Who on a channel and returns the answering backend's version. */
  static String who(Channel channel, CallOptions options) {
    return ClientCalls.blockingUnaryCall(channel, WHO, options, Empty.getDefaultInstance()).getValue();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
