package io.istio4j.ca.server;

import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.istio4j.ca.IssuedCertificate;
import io.istio4j.ca.api.v1.IstioCertificateRequest;
import io.istio4j.ca.api.v1.IstioCertificateResponse;
import io.istio4j.ca.api.v1.IstioCertificateServiceGrpc;
import java.time.Duration;

/**
 * Today's {@code IstioCertificateService/CreateCertificate} (istio-agent, istio-csr clients):
 * {@code validity_duration} seconds (0 for the default, capped by the maximum), the chain leaf
 * first and root last. The metadata Struct is accepted and not used.
 */
final class IstioCertificateServiceImpl extends IstioCertificateServiceGrpc.IstioCertificateServiceImplBase {

  static final String API = "create_certificate";

  private final CsrAuthority authority;

  IstioCertificateServiceImpl(CsrAuthority authority) {
    this.authority = authority;
  }

  @Override
  public void createCertificate(IstioCertificateRequest request, StreamObserver<IstioCertificateResponse> responses) {
    IssuedCertificate issued;
    try {
      if (request.getValidityDuration() < 0) {
        throw Status.INVALID_ARGUMENT.withDescription("validity_duration " + request.getValidityDuration()
            + " (expected: seconds >= 0; 0 for the default)").asException();
      }
      issued = authority.handle(API, request.getCsr(), Duration.ofSeconds(request.getValidityDuration()));
    } catch (StatusException e) {
      responses.onError(e);
      return;
    }
    responses.onNext(IstioCertificateResponse.newBuilder().addAllCertChain(issued.fullChainPems()).build());
    responses.onCompleted();
  }
}
