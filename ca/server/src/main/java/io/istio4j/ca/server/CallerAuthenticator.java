package io.istio4j.ca.server;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.StatusException;
import io.istio4j.ca.auth.TokenVerifier;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is calling: first a client certificate the TLS layer verified against the CA's root (the
 * caller's identities are its URI SANs), else a bearer token ({@code authorization: Bearer ...})
 * accepted by one of the token verifiers, in order. Neither is UNAUTHENTICATED.
 */
final class CallerAuthenticator {

  private static final Logger log = LoggerFactory.getLogger(CallerAuthenticator.class);
  static final String CLIENT_CERTIFICATE = "client certificate";
  static final String BEARER_TOKEN = "bearer token";

  private final List<TokenVerifier> verifiers;
  private final CaMetrics metrics;

  CallerAuthenticator(List<TokenVerifier> verifiers, CaMetrics metrics) {
    this.verifiers = List.copyOf(verifiers);
    this.metrics = requireNonNull(metrics, "metrics");
  }

  Caller authenticate(@Nullable SSLSession session, @Nullable String authorization) throws StatusException {
    Set<String> fromCert = certificateIdentities(session);
    if (!fromCert.isEmpty()) {
      return new Caller(fromCert, CLIENT_CERTIFICATE);
    }
    if (authorization == null) {
      throw Status.UNAUTHENTICATED.withDescription(
          "no client certificate with a URI SAN and no 'authorization: Bearer' token").asException();
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7) || authorization.length() == 7) {
      throw Status.UNAUTHENTICATED.withDescription("authorization header is not 'Bearer <token>'").asException();
    }
    String token = authorization.substring(7).strip();
    for (TokenVerifier verifier : verifiers) {
      Set<String> ids;
      try {
        ids = verifier.verify(token);
      } catch (TokenVerifier.TokenVerificationException e) {
        metrics.error("token_verifier");
        log.warn("Token verifier {} failed: {}", verifier.getClass().getSimpleName(), e.getMessage());
        throw Status.UNAVAILABLE.withDescription("cannot verify the bearer token now: " + e.getMessage()).asException();
      }
      if (!ids.isEmpty()) {
        return new Caller(ids, BEARER_TOKEN);
      }
    }
    throw Status.UNAUTHENTICATED.withDescription(verifiers.isEmpty()
        ? "bearer tokens are not accepted by this CA (no token verifier configured); use a client certificate"
        : "bearer token rejected").asException();
  }

  private static Set<String> certificateIdentities(@Nullable SSLSession session) {
    if (session == null) {
      return Set.of();
    }
    Certificate[] peer;
    try {
      peer = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return Set.of();
    }
    if (peer.length == 0 || !(peer[0] instanceof X509Certificate leaf)) {
      return Set.of();
    }
    Set<String> ids = new LinkedHashSet<>();
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(6).equals(san.get(0))) {
            ids.add((String) san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      return Set.of();
    }
    return ids;
  }
}
