package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * Mesh mutual TLS as {@code /metrics} and {@code /debug/certz} show it, read at scrape time.
 *
 * @param mode the mesh-wide mode ({@code STRICT}, {@code PERMISSIVE}, {@code DISABLE})
 * @param ca the CA's address
 * @param issued certificates the CA issued to Pilot so far (renewals included)
 * @param failures failed requests to the CA so far
 * @param expiries each identity's current certificate's expiry, seconds since the epoch
 * @param failing identities whose last request failed, with the error
 * @param configErrors the last push's mutual TLS configuration problems: bad {@code auth.istio.io/<port>}
 *     annotations, STRICT ports whose instances run as no service account
 */
public record CertificateStatus(String mode, String ca, long issued, long failures, Map<String, Long> expiries,
    Map<String, String> failing, List<String> configErrors) {

  public CertificateStatus {
    requireNonNull(mode, "mode");
    requireNonNull(ca, "ca");
    expiries = Map.copyOf(requireNonNull(expiries, "expiries"));
    failing = Map.copyOf(requireNonNull(failing, "failing"));
    configErrors = List.copyOf(requireNonNull(configErrors, "configErrors"));
  }
}
