package io.istio4j.ca.server;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import javax.net.ssl.SSLSession;

/** Hands the TLS session and the authorization header to the services through the gRPC Context. */
final class AuthInterceptor implements ServerInterceptor {

  static final Context.Key<SSLSession> SSL_SESSION = Context.key("istio-ca-ssl-session");
  static final Context.Key<String> AUTHORIZATION = Context.key("istio-ca-authorization");
  private static final Metadata.Key<String> AUTHORIZATION_HEADER =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Context ctx = Context.current()
        .withValue(SSL_SESSION, call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION))
        .withValue(AUTHORIZATION, headers.get(AUTHORIZATION_HEADER));
    return Contexts.interceptCall(ctx, call, headers, next);
  }
}
