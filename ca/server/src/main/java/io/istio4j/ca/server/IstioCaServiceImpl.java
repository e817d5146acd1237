package io.istio4j.ca.server;

import com.google.protobuf.ByteString;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.istio4j.ca.IssuedCertificate;
import io.istio4j.ca.api.v1.IstioCAServiceGrpc;
import io.istio4j.ca.api.v1.Request;
import io.istio4j.ca.api.v1.Response;
import java.time.Duration;

/**
 * Istio 0.2's {@code IstioCAService/HandleCSR}: on approval {@code is_approved=true} and the leaf
 * followed by the CA chain (without the root) in {@code signed_cert_chain}; refusals are gRPC
 * errors, as 0.2 returned them. {@code node_agent_credentials} is ignored, as in 0.2.
 */
final class IstioCaServiceImpl extends IstioCAServiceGrpc.IstioCAServiceImplBase {

  static final String API = "handle_csr";

  private final CsrAuthority authority;

  IstioCaServiceImpl(CsrAuthority authority) {
    this.authority = authority;
  }

  @Override
  public void handleCSR(Request request, StreamObserver<Response> responses) {
    IssuedCertificate issued;
    try {
      issued = authority.handle(API, request.getCsrPem().toStringUtf8(), Duration.ZERO);
    } catch (StatusException e) {
      responses.onError(e);
      return;
    }
    responses.onNext(Response.newBuilder().setIsApproved(true)
        .setSignedCertChain(ByteString.copyFromUtf8(issued.certChainPem())).build());
    responses.onCompleted();
  }
}
