package io.istio4j.ca.server;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.StatusException;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.InvalidCsrException;
import io.istio4j.ca.IssuedCertificate;
import io.istio4j.ca.SubjectAltName;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both CSR APIs do: authenticate the caller, check the CSR, authorize every SAN against the
 * caller's identities, sign. Unlike Istio 0.2, token callers are held to the same rule as
 * certificate callers (0.2 approved them unconditionally).
 */
final class CsrAuthority {

  private static final Logger log = LoggerFactory.getLogger(CsrAuthority.class);

  private final CertificateAuthority ca;
  private final CallerAuthenticator authenticator;
  private final CaMetrics metrics;

  CsrAuthority(CertificateAuthority ca, CallerAuthenticator authenticator, CaMetrics metrics) {
    this.ca = requireNonNull(ca, "ca");
    this.authenticator = requireNonNull(authenticator, "authenticator");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  CertificateAuthority ca() {
    return ca;
  }

  IssuedCertificate handle(String api, String csrPem, Duration requestedTtl) throws StatusException {
    Caller caller;
    try {
      caller = authenticator.authenticate(AuthInterceptor.SSL_SESSION.get(), AuthInterceptor.AUTHORIZATION.get());
    } catch (StatusException e) {
      if (e.getStatus().getCode() == Status.Code.UNAUTHENTICATED) {
        metrics.denied(CaMetrics.Denial.UNAUTHENTICATED);
      }
      log.debug("{}: {}", api, e.getStatus());
      throw e;
    }
    CertificateSigningRequest csr;
    try {
      csr = CertificateSigningRequest.parse(csrPem);
    } catch (InvalidCsrException e) {
      metrics.denied(CaMetrics.Denial.INVALID_ARGUMENT);
      log.debug("{}: invalid CSR from {}: {}", api, caller.identities(), e.getMessage());
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException();
    }
    for (SubjectAltName san : csr.sans()) {
      if (!caller.identities().contains(san.value())) {
        metrics.denied(CaMetrics.Denial.PERMISSION_DENIED);
        String message = "SAN '" + san.value() + "' is not an identity of the caller (authenticated by "
            + caller.method() + " as " + caller.identities() + ")";
        log.debug("{}: {}", api, message);
        throw Status.PERMISSION_DENIED.withDescription(message).asException();
      }
    }
    try {
      IssuedCertificate issued = ca.sign(csr, requestedTtl);
      metrics.issued(api);
      return issued;
    } catch (RuntimeException e) {
      metrics.error("signing");
      log.error("Signing a certificate for {} failed", csr.spiffeId(), e);
      throw Status.INTERNAL.withDescription("signing failed: " + e.getMessage()).asException();
    }
  }
}
