package io.istio4j.pilot.discovery;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

import io.grpc.CallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import io.istio4j.ca.api.v1.IstioCertificateRequest;
import io.istio4j.ca.api.v1.IstioCertificateResponse;
import io.istio4j.ca.api.v1.IstioCertificateServiceGrpc;
import io.istio4j.pilot.xds.SecretSource;
import io.istio4j.pilot.xds.WorkloadCertificate;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workload certificates from the CA, through its gRPC API ({@code IstioCertificateService/
 * CreateCertificate}), for the SDS secrets Pilot serves: per service account a key Pilot generates
 * (never leaving Pilot except to that account's proxies), a CSR for
 * {@code spiffe://<td>/ns/<ns>/sa/<sa>}, the answer checked (the leaf names the identity and holds
 * the key), cached, and renewed when {@code renewAt} of its lifetime has passed (half-life by
 * default). When the CA cannot be reached the current certificate is kept until it expires (an
 * expired one is no longer served) and the call is retried with jittered exponential backoff.
 *
 * <p>Pilot authenticates to the CA with a bearer token (the CA's {@code --token-file} or
 * Kubernetes token review) that proves every identity it asks for: the CA grants a SAN only to a
 * caller that holds it.
 */
public final class CaCertificateSource implements SecretSource, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CaCertificateSource.class);

  /**
   * How Pilot reaches the CA.
   *
   * @param address host:port of the CA's TLS gRPC port
   * @param authority the name the CA's serving certificate carries (null: the host of address)
   * @param trustedRoot the root the CA's serving certificate chains to (Pilot's bootstrap trust)
   * @param bearerToken the token Pilot authenticates with (null: none)
   * @param requestedTtl the lifetime asked for (zero: the CA's default)
   * @param renewAt the share of the lifetime after which a certificate is renewed (0.5: half-life)
   * @param initialBackoff the first retry delay; doubled up to maxBackoff, jittered
   * @param maxBackoff the longest retry delay
   * @param callTimeout deadline of one CreateCertificate call
   */
  public record Options(String address, @Nullable String authority, X509Certificate trustedRoot,
      @Nullable String bearerToken, Duration requestedTtl, double renewAt, Duration initialBackoff, Duration maxBackoff,
      Duration callTimeout) {
    public Options {
      requireNonNull(address, "address");
      requireNonNull(trustedRoot, "trustedRoot");
      requireNonNull(requestedTtl, "requestedTtl");
      requireNonNull(initialBackoff, "initialBackoff");
      requireNonNull(maxBackoff, "maxBackoff");
      requireNonNull(callTimeout, "callTimeout");
      if (!(renewAt > 0 && renewAt < 1)) {
        throw new IllegalArgumentException("renewAt: " + renewAt + " (expected: between 0 and 1, e.g. 0.5)");
      }
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff: " + initialBackoff + " to " + maxBackoff
            + " (expected: initial > 0 and max >= initial)");
      }
    }

    /** Defaults: renew at half-life, backoff 1 s to 5 min, 10 s deadline, the CA's TTL. */
    public static Options of(String address, X509Certificate trustedRoot, @Nullable String bearerToken) {
      return new Options(address, null, trustedRoot, bearerToken, Duration.ZERO, 0.5, Duration.ofSeconds(1),
          Duration.ofMinutes(5), Duration.ofSeconds(10));
    }
  }

  /** One identity's state. */
  private static final class Entry {
    volatile @Nullable WorkloadCertificate current;
    volatile boolean inFlight;
    volatile int failures;
    volatile @Nullable String lastError;
  }

  private final Options options;
  private final KeyAlgorithm keyAlgorithm;
  private final Clock clock;
  private final ManagedChannel channel;
  private final IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub stub;
  private final ScheduledExecutorService scheduler;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean closed;

  public CaCertificateSource(Options options) {
    this(options, KeyAlgorithm.ECDSA_P256, Clock.systemUTC());
  }

  CaCertificateSource(Options options, KeyAlgorithm keyAlgorithm, Clock clock) {
    this.options = requireNonNull(options, "options");
    this.keyAlgorithm = requireNonNull(keyAlgorithm, "keyAlgorithm");
    this.clock = requireNonNull(clock, "clock");
    ChannelCredentials tls;
    try {
      tls = TlsChannelCredentials.newBuilder().trustManager(new ByteArrayInputStream(
          Pem.encode(options.trustedRoot()).getBytes(US_ASCII))).build();
    } catch (IOException e) {
      throw new IllegalArgumentException("trustedRoot: cannot be used as a trust anchor (" + e.getMessage() + ")", e);
    }
    var builder = Grpc.newChannelBuilder(options.address(), tls);
    if (options.authority() != null) {
      builder.overrideAuthority(options.authority());
    }
    this.channel = builder.build();
    IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub s = IstioCertificateServiceGrpc.newBlockingStub(channel);
    if (options.bearerToken() != null) {
      s = s.withCallCredentials(new BearerToken(options.bearerToken()));
    }
    this.stub = s;
    ScheduledThreadPoolExecutor pool = new ScheduledThreadPoolExecutor(2, r -> {
      Thread t = new Thread(r, "pilot-ca-client");
      t.setDaemon(true);
      return t;
    });
    pool.setRemoveOnCancelPolicy(true);
    this.scheduler = pool;
  }

  @Override
  public @Nullable WorkloadCertificate certificate(String spiffeId) {
    Entry e = entries.get(spiffeId);
    if (e == null) {
      e = entries.computeIfAbsent(spiffeId, k -> new Entry());
      start(spiffeId, e);
    }
    WorkloadCertificate c = e.current;
    if (c != null && !clock.instant().isBefore(c.notAfter())) {
      // Expired while the CA was unreachable: a proxy could not use it anyway.
      return null;
    }
    return c;
  }

  private synchronized void start(String spiffeId, Entry e) {
    if (e.inFlight || closed) {
      return;
    }
    e.inFlight = true;
    submit(() -> refresh(spiffeId, e), Duration.ZERO);
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** Certificates issued so far (renewals included). */
  public long issued() {
    return issued.get();
  }

  /** Failed CreateCertificate calls so far. */
  public long failures() {
    return failures.get();
  }

  /** Identities whose last attempt failed, with the error, for /metrics and logs. */
  public Map<String, String> failing() {
    Map<String, String> out = new TreeMap<>();
    entries.forEach((k, v) -> {
      if (v.lastError != null) {
        out.put(k, v.lastError);
      }
    });
    return out;
  }

  /** Each identity's current certificate expiry (seconds since the epoch). */
  public Map<String, Long> expiries() {
    Map<String, Long> out = new TreeMap<>();
    entries.forEach((k, v) -> {
      WorkloadCertificate c = v.current;
      if (c != null) {
        out.put(k, c.notAfter().getEpochSecond());
      }
    });
    return out;
  }

  private void refresh(String spiffeId, Entry e) {
    if (closed) {
      return;
    }
    try {
      WorkloadCertificate c = request(spiffeId);
      e.current = c;
      e.failures = 0;
      e.lastError = null;
      issued.incrementAndGet();
      log.info("Certificate for {} issued by the CA, valid until {}", spiffeId, c.notAfter());
      for (Runnable l : listeners) {
        try {
          l.run();
        } catch (RuntimeException ex) {
          log.warn("certificate listener failed", ex);
        }
      }
      Instant now = clock.instant();
      X509Certificate leaf = Pem.readCertificates(c.certChainPem(), "CA answer").get(0);
      long lifeMillis = leaf.getNotAfter().getTime() - leaf.getNotBefore().getTime();
      Instant renew = leaf.getNotBefore().toInstant().plusMillis((long) (lifeMillis * options.renewAt()));
      submit(() -> refresh(spiffeId, e), Duration.between(now, renew));
    } catch (RuntimeException ex) {
      failures.incrementAndGet();
      int n = ++e.failures;
      String reason = ex instanceof StatusRuntimeException s ? s.getStatus().getCode() + ": "
          + s.getStatus().getDescription() + rootCause(s) : String.valueOf(ex.getMessage());
      e.lastError = reason;
      long base = Math.min(options.maxBackoff().toMillis(), options.initialBackoff().toMillis() << Math.min(n - 1, 20));
      long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
      WorkloadCertificate c = e.current;
      log.warn("Certificate for {} not issued (attempt {}): {}; retrying in {} ms{}", spiffeId, n, reason, delay,
          c == null ? "" : "; the current one stays until " + c.notAfter());
      submit(() -> refresh(spiffeId, e), Duration.ofMillis(delay));
    }
  }

  /**
   * The innermost cause's message, which says why a TLS handshake with the CA failed (an untrusted
   * CA certificate, a name mismatch): gRPC's own description is only "io exception".
   */
  private static String rootCause(Throwable t) {
    Throwable c = t.getCause();
    if (c == null) {
      return "";
    }
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return " (" + c.getClass().getSimpleName() + ": " + c.getMessage() + ")";
  }

  private void submit(Runnable task, Duration delay) {
    if (closed) {
      return;
    }
    try {
      scheduler.schedule(task, Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException ex) {
      // closing
    }
  }

  private WorkloadCertificate request(String spiffeId) {
    SpiffeId id;
    try {
      id = SpiffeId.parse(spiffeId);
    } catch (IllegalArgumentException ex) {
      throw Status.INVALID_ARGUMENT.withDescription("service account '" + spiffeId + "' is not a SPIFFE ID: "
          + ex.getMessage()).asRuntimeException();
    }
    KeyPair pair = keyAlgorithm.generate();
    String csr = CertificateSigningRequest.create(pair, List.of(SubjectAltName.uri(id)));
    IstioCertificateRequest.Builder req = IstioCertificateRequest.newBuilder().setCsr(csr);
    if (!options.requestedTtl().isZero()) {
      req.setValidityDuration(options.requestedTtl().toSeconds());
    }
    IstioCertificateResponse resp = stub.withDeadlineAfter(options.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .createCertificate(req.build());
    if (resp.getCertChainCount() < 2) {
      throw new IllegalStateException("CA answered " + resp.getCertChainCount() + " certificate(s) (expected: leaf ... root)");
    }
    X509Certificate leaf = Pem.readCertificate(resp.getCertChain(0), "CA answer leaf");
    if (!leaf.getPublicKey().equals(pair.getPublic())) {
      throw new IllegalStateException("CA answer for " + spiffeId + " is not for the key Pilot sent");
    }
    StringBuilder chain = new StringBuilder();
    for (int i = 0; i < resp.getCertChainCount() - 1; i++) {
      chain.append(resp.getCertChain(i));
      if (!resp.getCertChain(i).endsWith("\n")) {
        chain.append('\n');
      }
    }
    String root = resp.getCertChain(resp.getCertChainCount() - 1);
    if (!Pem.readCertificate(root, "CA answer root").equals(options.trustedRoot())) {
      log.warn("CA answer for {} ends in a root other than the trusted one; serving the trusted root", spiffeId);
      root = Pem.encode(options.trustedRoot());
    }
    return new WorkloadCertificate(spiffeId, chain.toString(), Pem.encode(pair.getPrivate()), root,
        leaf.getNotAfter().toInstant());
  }

  @Override
  public void close() {
    closed = true;
    scheduler.shutdownNow();
    channel.shutdownNow();
  }

  /** {@code authorization: Bearer <token>} on every call. */
  private static final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private final String token;

    BearerToken(String token) {
      this.token = token;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
      Metadata m = new Metadata();
      m.put(AUTHORIZATION, "Bearer " + token);
      applier.apply(m);
    }
  }
}
