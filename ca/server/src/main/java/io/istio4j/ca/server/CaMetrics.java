package io.istio4j.ca.server;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.security.cert.X509Certificate;

/**
 * The CA's own metrics on {@code /metrics}: certificates issued (by API), requests denied (by
 * reason), errors (by kind), and when the root and serving certificate expire.
 */
public final class CaMetrics {

  /** Denial reasons, the {@code reason} label. */
  public enum Denial {
    /** No client certificate and no accepted bearer token. */
    UNAUTHENTICATED("unauthenticated"),
    /** A SAN the caller does not hold. */
    PERMISSION_DENIED("permission_denied"),
    /** A malformed CSR, or no or a malformed SAN. */
    INVALID_ARGUMENT("invalid_argument");

    final String label;

    Denial(String label) {
      this.label = label;
    }
  }

  private final PrometheusRegistry registry;
  private final Counter issued;
  private final Counter denied;
  private final Counter errors;
  private final Gauge rootExpiry;
  private final Gauge servingExpiry;

  /** Metrics in a registry of their own. */
  public CaMetrics() {
    this(new PrometheusRegistry());
  }

  /** Metrics registered in {@code registry}. */
  public CaMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    issued = Counter.builder().name("istio_ca_certificates_issued_total")
        .help("Certificates the CA signed, by API (handle_csr, create_certificate, secret_controller, serving, cli)")
        .labelNames("api").register(registry);
    denied = Counter.builder().name("istio_ca_requests_denied_total")
        .help("CSR requests refused, by reason (unauthenticated, permission_denied, invalid_argument)")
        .labelNames("reason").register(registry);
    errors = Counter.builder().name("istio_ca_errors_total")
        .help("Errors of the CA itself, by kind (signing, token_verifier, serving_cert, secret_controller)")
        .labelNames("kind").register(registry);
    rootExpiry = Gauge.builder().name("istio_ca_root_cert_expiry_timestamp_seconds")
        .help("When the root certificate workloads trust expires (Unix seconds)").register(registry);
    servingExpiry = Gauge.builder().name("istio_ca_serving_cert_expiry_timestamp_seconds")
        .help("When the CA's current gRPC serving certificate expires (Unix seconds)").register(registry);
    for (Denial d : Denial.values()) {
      denied.labelValues(d.label);
    }
  }

  /** The registry {@code /metrics} renders. */
  public PrometheusRegistry registry() {
    return registry;
  }

  void issued(String api) {
    issued.labelValues(api).inc();
  }

  void denied(Denial reason) {
    denied.labelValues(reason.label).inc();
  }

  /** Counts an error of a kind. */
  public void error(String kind) {
    errors.labelValues(kind).inc();
  }

  /** Counts a certificate issued outside the gRPC APIs. */
  public void issuedBy(String api) {
    issued(api);
  }

  void root(X509Certificate root) {
    rootExpiry.set(root.getNotAfter().getTime() / 1000.0);
  }

  void serving(X509Certificate cert) {
    servingExpiry.set(cert.getNotAfter().getTime() / 1000.0);
  }
}
