package io.istio4j.ca.server;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.StatusException;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.InvalidCsrException;
import io.istio4j.ca.IssuedCertificate;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import java.time.Duration;
import java.util.Collections;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What both CSR APIs do: authenticate the caller, check the CSR, authorize every SAN against the
 * caller's identities, sign. Unlike Istio 0.2, token callers are held to the same rule as
 * certificate callers (0.2 approved them unconditionally). A caller proving a trusted delegate's
 * identity (Pilot, which hands workloads their certificates) may ask for any workload identity of
 * the trust domain, never one outside it.
 */
final class CsrAuthority {

  private static final Logger log = LoggerFactory.getLogger(CsrAuthority.class);

  private final CertificateAuthority ca;
  private final CallerAuthenticator authenticator;
  private final CaMetrics metrics;
  private final Set<String> trustedDelegates;

  CsrAuthority(CertificateAuthority ca, CallerAuthenticator authenticator, CaMetrics metrics,
      Set<String> trustedDelegates) {
    this.ca = requireNonNull(ca, "ca");
    this.authenticator = requireNonNull(authenticator, "authenticator");
    this.metrics = requireNonNull(metrics, "metrics");
    this.trustedDelegates = Set.copyOf(trustedDelegates);
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
    boolean delegate = !Collections.disjoint(caller.identities(), trustedDelegates);
    for (SubjectAltName san : csr.sans()) {
      if (!caller.identities().contains(san.value()) && !(delegate && isWorkloadOfTrustDomain(san.value()))) {
        metrics.denied(CaMetrics.Denial.PERMISSION_DENIED);
        String message = delegate
            ? "SAN '" + san.value() + "' is not a workload identity of trust domain " + ca.trustDomain()
                + " (the caller, a trusted delegate, may request only those)"
            : "SAN '" + san.value() + "' is not an identity of the caller (authenticated by "
                + caller.method() + " as " + caller.identities() + ")";
        log.debug("{}: {}", api, message);
        throw Status.PERMISSION_DENIED.withDescription(message).asException();
      }
    }
    try {
      IssuedCertificate issued = ca.sign(csr, requestedTtl);
      if (delegate) {
        log.debug("{}: issued {} to trusted delegate {}", api, csr.spiffeId(), caller.identities());
      }
      metrics.issued(api);
      return issued;
    } catch (RuntimeException e) {
      metrics.error("signing");
      log.error("Signing a certificate for {} failed", csr.spiffeId(), e);
      throw Status.INTERNAL.withDescription("signing failed: " + e.getMessage()).asException();
    }
  }

  private boolean isWorkloadOfTrustDomain(String san) {
    try {
      SpiffeId id = SpiffeId.parse(san);
      return id.trustDomain().equals(ca.trustDomain()) && id.isWorkload();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
