package io.istio4j.ca.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.TlsServerCredentials;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.auth.TokenVerifier;
import io.istio4j.http.HttpResponse;
import io.istio4j.http.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.TrustManagerFactory;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA server: both CSR APIs on one TLS gRPC port whose certificate the CA issues itself for
 * {@code --grpc-hostname} and renews at half-life; client certificates are requested (not required)
 * and verified against the CA's root; {@code /metrics}, {@code /healthz} and {@code /readyz} on the
 * monitoring port.
 *
 * <pre>{@code
 * CaServer server = CaServer.builder(ca).grpcPort(8060).grpcHostnames(List.of("istio-ca")).build();
 * server.start();
 * }</pre>
 */
public final class CaServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CaServer.class);
  /** A CSR is under 2 KiB; anything much larger is refused by the transport. */
  static final int MAX_MESSAGE_BYTES = 128 * 1024;

  /** Whether the server may serve, and why not. */
  public record Readiness(boolean ready, String reason) {}

  private final Builder config;
  private final CaMetrics metrics;
  private ServingCertificate serving;
  private Server grpc;
  private HttpServer monitoring;
  private ScheduledExecutorService scheduler;
  private ExecutorService executor;
  private volatile boolean started;
  private volatile boolean stopping;

  private CaServer(Builder config) {
    this.config = config;
    this.metrics = config.metrics;
  }

  /** A builder for a server signing with {@code ca}. */
  public static Builder builder(CertificateAuthority ca) {
    return new Builder(ca);
  }

  /**
   * Starts the gRPC and monitoring ports.
   *
   * @throws IOException naming the port that cannot be bound
   */
  public synchronized void start() throws IOException {
    CertificateAuthority ca = config.ca;
    metrics.root(ca.bundle().root());
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "istio-ca-renewal");
      t.setDaemon(true);
      return t;
    });
    serving = new ServingCertificate(ca, config.grpcHostnames, config.servingKeyAlgorithm,
        config.servingTtl == null ? ca.defaultTtl() : config.servingTtl, metrics);
    serving.scheduleRenewal(scheduler);

    ServerCredentials credentials = TlsServerCredentials.newBuilder()
        .keyManager(serving)
        .trustManager(trustManagers(ca.bundle().root()).getTrustManagers())
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL)
        .build();
    CallerAuthenticator authenticator = new CallerAuthenticator(config.tokenVerifiers, metrics);
    CsrAuthority authority = new CsrAuthority(ca, authenticator, metrics, config.trustedDelegates);
    AuthInterceptor interceptor = new AuthInterceptor();
    // Signing is CPU-bound: a bounded pool (not gRPC's unbounded cached one) keeps a flood of calls
    // from becoming a flood of threads; the headroom over the core count covers token verifiers
    // that wait on the Kubernetes API.
    int threads = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
    AtomicInteger threadNumber = new AtomicInteger();
    executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "istio-ca-grpc-" + threadNumber.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    try {
      grpc = Grpc.newServerBuilderForPort(config.grpcPort, credentials)
          .executor(executor)
          .addService(ServerInterceptors.intercept(new IstioCaServiceImpl(authority), interceptor))
          .addService(ServerInterceptors.intercept(new IstioCertificateServiceImpl(authority), interceptor))
          .maxInboundMessageSize(MAX_MESSAGE_BYTES)
          .maxInboundMetadataSize(16 * 1024)
          .handshakeTimeout(10, TimeUnit.SECONDS)
          .build()
          .start();
    } catch (IOException e) {
      throw new IOException("--grpc-port " + config.grpcPort + ": cannot listen (" + e.getMessage() + ")", e);
    }
    if (config.monitoringPort >= 0) {
      PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
      monitoring = HttpServer.builder("monitoring")
          .address(config.monitoringAddress, config.monitoringPort, "--monitoring-port")
          .route("/metrics", request -> {
            ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
            writer.write(body, metrics.registry().scrape(), EscapingScheme.DEFAULT);
            return HttpResponse.of(200, writer.getContentType(), body.toByteArray());
          })
          .fastRoute("/healthz", request -> HttpResponse.text(200, "ok\n"))
          .fastRoute("/readyz", request -> {
            Readiness r = readiness();
            return HttpResponse.text(r.ready() ? 200 : 503, (r.ready() ? "ready: " : "not ready: ") + r.reason() + "\n");
          })
          .fastRoute("/root-cert.pem", request -> HttpResponse.of(200, "application/x-pem-file",
              Pem.encode(ca.bundle().root()).getBytes(UTF_8)))
          .start();
    }
    started = true;
    log.info("istio-ca serving HandleCSR and CreateCertificate on TLS port {} as {} (trust domain {}, root {}){}",
        grpc.getPort(), config.grpcHostnames, ca.trustDomain(), ca.bundle().root().getSubjectX500Principal(),
        monitoring == null ? "" : "; monitoring on port " + monitoring.port());
  }

  /** Ready once the gRPC port serves and every extra readiness check passes. */
  public Readiness readiness() {
    if (stopping) {
      return new Readiness(false, "shutting down");
    }
    if (!started) {
      return new Readiness(false, "starting");
    }
    for (Supplier<Readiness> check : config.readinessChecks) {
      Readiness r = check.get();
      if (!r.ready()) {
        return r;
      }
    }
    return new Readiness(true, "serving on port " + grpc.getPort());
  }

  /** The bound gRPC port. */
  public int grpcPort() {
    return grpc.getPort();
  }

  /** The bound monitoring port, or -1 when disabled. */
  public int monitoringPort() {
    return monitoring == null ? -1 : monitoring.port();
  }

  /** The serving certificate new handshakes get. */
  public X509Certificate servingCertificate() {
    return serving.leaf();
  }

  /** Issues a new serving certificate now (as the scheduled renewal does). */
  void renewServingCertificate() {
    serving.renew();
  }

  /** The metrics. */
  public CaMetrics metrics() {
    return metrics;
  }

  /** Blocks until the server terminates. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /**
   * Graceful shutdown: not ready at once, no new calls, calls in flight get up to the grace period,
   * then the rest is cut.
   */
  @Override
  public synchronized void close() {
    stopping = true;
    if (grpc != null) {
      grpc.shutdown();
      try {
        if (!grpc.awaitTermination(config.shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
          grpc.shutdownNow();
          grpc.awaitTermination(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        grpc.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    for (AutoCloseable c : config.closeables) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("Closing {} failed", c, e);
      }
    }
    if (scheduler != null) {
      scheduler.shutdownNow();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
    if (monitoring != null) {
      monitoring.close();
    }
    log.info("istio-ca stopped");
  }

  private static TrustManagerFactory trustManagers(X509Certificate root) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("root", root);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      return tmf;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot build a trust store of the root", e);
    }
  }

  /**
   * Checks {@code --trusted-delegate} values: SPIFFE workload IDs of the trust domain.
   *
   * @throws IllegalArgumentException naming the flag and the value that is not one
   */
  public static Set<String> checkTrustedDelegates(Collection<String> ids, String trustDomain) {
    Set<String> checked = new LinkedHashSet<>();
    for (String id : ids) {
      SpiffeId parsed;
      try {
        parsed = SpiffeId.parse(id);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--trusted-delegate: '" + id + "': " + e.getMessage(), e);
      }
      if (!parsed.trustDomain().equals(trustDomain) || !parsed.isWorkload()) {
        throw new IllegalArgumentException("--trusted-delegate: '" + id + "' (expected: a workload ID of trust domain "
            + trustDomain + ", spiffe://" + trustDomain + "/ns/NAMESPACE/sa/ACCOUNT)");
      }
      checked.add(parsed.toString());
    }
    return Set.copyOf(checked);
  }

  /** Configures a {@link CaServer}. */
  public static final class Builder {
    private final CertificateAuthority ca;
    private int grpcPort = 8060;
    private List<String> grpcHostnames = List.of("localhost");
    private String monitoringAddress = "0.0.0.0";
    private int monitoringPort = 15014;
    private KeyAlgorithm servingKeyAlgorithm = KeyAlgorithm.ECDSA_P256;
    private @Nullable Duration servingTtl;
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private final List<TokenVerifier> tokenVerifiers = new ArrayList<>();
    private Set<String> trustedDelegates = Set.of();
    private final List<Supplier<Readiness>> readinessChecks = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private CaMetrics metrics = new CaMetrics();

    private Builder(CertificateAuthority ca) {
      this.ca = requireNonNull(ca, "ca");
    }

    /** The TLS gRPC port ({@code --grpc-port}, default 8060; 0 for any free port). */
    public Builder grpcPort(int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("--grpc-port: " + port + " (expected: 0-65535)");
      }
      this.grpcPort = port;
      return this;
    }

    /** The DNS names of the serving certificate ({@code --grpc-hostname}). */
    public Builder grpcHostnames(List<String> hostnames) {
      if (hostnames.isEmpty()) {
        throw new IllegalArgumentException("--grpc-hostname: none (expected: at least one host name)");
      }
      this.grpcHostnames = List.copyOf(hostnames);
      return this;
    }

    /** The monitoring HTTP address and port ({@code --monitoring-port}; -1 disables it, 0 picks a free port). */
    public Builder monitoring(String address, int port) {
      this.monitoringAddress = requireNonNull(address, "address");
      this.monitoringPort = port;
      return this;
    }

    /** The key type of the serving certificate. */
    public Builder servingKeyAlgorithm(KeyAlgorithm algorithm) {
      this.servingKeyAlgorithm = requireNonNull(algorithm, "algorithm");
      return this;
    }

    /** The serving certificate's lifetime (default: the workload certificate TTL). */
    public Builder servingTtl(Duration ttl) {
      this.servingTtl = requireNonNull(ttl, "ttl");
      return this;
    }

    /** How long calls in flight may finish at shutdown. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = requireNonNull(grace, "grace");
      return this;
    }

    /** Adds a bearer-token verifier (tried in the order added). */
    public Builder tokenVerifier(TokenVerifier verifier) {
      tokenVerifiers.add(requireNonNull(verifier, "verifier"));
      return this;
    }

    /**
     * The identities that may request certificates for any workload identity of the CA's trust
     * domain ({@code --trusted-delegate}), such as Pilot's, which serves workloads their
     * certificates over SDS. Each must be a SPIFFE workload ID of the trust domain.
     */
    public Builder trustedDelegates(Collection<String> ids) {
      Set<String> checked = checkTrustedDelegates(ids, ca.trustDomain());
      this.trustedDelegates = checked;
      return this;
    }

    /** Adds a readiness condition (the secret controller's first sync). */
    public Builder readinessCheck(Supplier<Readiness> check) {
      readinessChecks.add(requireNonNull(check, "check"));
      return this;
    }

    /** Closes {@code c} at shutdown, after the gRPC port. */
    public Builder closeOnShutdown(AutoCloseable c) {
      closeables.add(requireNonNull(c, "c"));
      return this;
    }

    /** The metrics to count in. */
    public Builder metrics(CaMetrics metrics) {
      this.metrics = requireNonNull(metrics, "metrics");
      return this;
    }

    /** The server, not started. */
    public CaServer build() {
      return new CaServer(this);
    }
  }
}
