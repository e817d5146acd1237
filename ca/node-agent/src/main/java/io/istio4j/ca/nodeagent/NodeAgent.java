package io.istio4j.ca.nodeagent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SecureFiles;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import io.istio4j.ca.api.v1.IstioCAServiceGrpc;
import io.istio4j.ca.api.v1.IstioCertificateRequest;
import io.istio4j.ca.api.v1.IstioCertificateResponse;
import io.istio4j.ca.api.v1.IstioCertificateServiceGrpc;
import io.istio4j.ca.api.v1.Request;
import io.istio4j.ca.api.v1.Response;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent of a VM: its identity is the one URI SAN of the certificate in
 * {@code cert-chain.pem} (first a bootstrap certificate from {@code istio-ca issue}); it generates a
 * new key and CSR for that identity, calls the CA over mutual TLS with the current certificate,
 * checks the answer chains to {@code root-cert.pem}, writes {@code key.pem} (0600) and
 * {@code cert-chain.pem} atomically, and sleeps until the grace period starts (half the lifetime by
 * default). Failures are retried with exponential backoff and jitter, for as long as it takes: a CA
 * that is down for a while only delays renewal (Istio 0.2's agent gave up after five tries).
 */
public final class NodeAgent implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(NodeAgent.class);

  /**
   * What the agent needs.
   *
   * @param caAddress host:port of the CA's gRPC port
   * @param caHostname the name the CA's serving certificate must carry (null: the host of caAddress)
   * @param certChain cert-chain.pem
   * @param key key.pem
   * @param rootCert root-cert.pem (trusted; never overwritten from the CA's answer)
   * @param keyAlgorithm the type of the keys it generates
   * @param gracePeriodPercentage renew when this share of the lifetime is left (50 = half-life)
   * @param requestedTtl the lifetime asked for (zero for the CA's default)
   * @param initialBackoff the first retry delay
   * @param maxBackoff the longest retry delay
   * @param legacyApi call 0.2's HandleCSR instead of CreateCertificate
   */
  public record Config(String caAddress, @Nullable String caHostname, Path certChain, Path key, Path rootCert,
      KeyAlgorithm keyAlgorithm, int gracePeriodPercentage, Duration requestedTtl, Duration initialBackoff,
      Duration maxBackoff, boolean legacyApi) {
    /** Checks ranges. */
    public Config {
      requireNonNull(caAddress, "caAddress");
      requireNonNull(certChain, "certChain");
      requireNonNull(key, "key");
      requireNonNull(rootCert, "rootCert");
      requireNonNull(keyAlgorithm, "keyAlgorithm");
      if (gracePeriodPercentage < 1 || gracePeriodPercentage > 99) {
        throw new IllegalArgumentException("--csr-grace-period-percentage: " + gracePeriodPercentage + " (expected: 1-99)");
      }
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff: initial " + initialBackoff + ", max " + maxBackoff
            + " (expected: 0 < initial <= max)");
      }
    }
  }

  private final Config config;
  private volatile boolean running = true;
  private volatile @Nullable Thread thread;
  private volatile int renewals;
  private volatile int failedAttempts;

  /** An agent; {@link #run()} it on a thread of its own. */
  public NodeAgent(Config config) {
    this.config = requireNonNull(config, "config");
  }

  /** How many certificates it has obtained since it started. */
  public int renewals() {
    return renewals;
  }

  /** How many renewal attempts have failed since it started. */
  public int failedAttempts() {
    return failedAttempts;
  }

  /** Stops the loop (between attempts or during a sleep). */
  public void stop() {
    running = false;
    Thread t = thread;
    if (t != null) {
      t.interrupt();
    }
  }

  @Override
  public void run() {
    thread = Thread.currentThread();
    try {
      while (running) {
        X509Certificate leaf = currentLeaf();
        Instant renewAt = renewalTime(leaf);
        long wait = Duration.between(Instant.now(), renewAt).toMillis();
        if (wait > 0) {
          log.info("Certificate for {} valid until {}; renewing at {}", identity(leaf), leaf.getNotAfter().toInstant(),
              renewAt);
          Thread.sleep(wait);
        }
        renewWithBackoff();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      log.error("Node agent stopped: {}", e.getMessage(), e);
      throw new IllegalStateException(e.getMessage(), e);
    } finally {
      thread = null;
    }
  }

  private void renewWithBackoff() throws InterruptedException, IOException {
    long backoff = config.initialBackoff().toMillis();
    for (int attempt = 1; running; attempt++) {
      try {
        renewOnce();
        return;
      } catch (RenewalException e) {
        failedAttempts++;
        X509Certificate leaf = currentLeaf();
        boolean expired = leaf.getNotAfter().toInstant().isBefore(Instant.now());
        long sleep = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
        if (expired) {
          log.error("Renewal attempt {} failed: {}; the current certificate EXPIRED at {}, so the CA will refuse it: "
              + "give this node a new bootstrap identity (istio-ca issue); retrying in {} ms", attempt, e.getMessage(),
              leaf.getNotAfter().toInstant(), sleep);
        } else {
          log.warn("Renewal attempt {} failed: {}; retrying in {} ms", attempt, e.getMessage(), sleep);
        }
        Thread.sleep(sleep);
        backoff = Math.min(backoff * 2, config.maxBackoff().toMillis());
      }
    }
  }

  /** A failed renewal that is worth retrying. */
  static final class RenewalException extends Exception {
    private static final long serialVersionUID = 1L;

    RenewalException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Obtains and writes a new key and certificate once.
   *
   * @throws RenewalException when the CA cannot be reached, refuses, or answers with a chain that
   *     does not verify
   */
  void renewOnce() throws RenewalException, IOException {
    X509Certificate leaf = currentLeaf();
    SpiffeId id = identity(leaf);
    KeyPair pair = config.keyAlgorithm().generate();
    String csr = CertificateSigningRequest.create(pair, List.of(SubjectAltName.uri(id)));
    String rootPem = SecureFiles.read(config.rootCert(), "--root-cert");
    X509Certificate root = Pem.readCertificate(rootPem, "--root-cert " + config.rootCert());
    ManagedChannel channel = channel(rootPem);
    List<X509Certificate> chain;
    try {
      chain = config.legacyApi() ? handleCsr(channel, csr) : createCertificate(channel, csr);
    } catch (StatusRuntimeException e) {
      Throwable cause = e.getStatus().getCause();
      throw new RenewalException("CA " + config.caAddress() + ": " + e.getStatus().getCode()
          + (e.getStatus().getDescription() == null ? "" : " " + e.getStatus().getDescription())
          + (cause == null || cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")"), e);
    } finally {
      channel.shutdownNow();
    }
    X509Certificate newLeaf = chain.get(0);
    if (!newLeaf.getPublicKey().equals(pair.getPublic())) {
      throw new RenewalException("CA answered with a certificate for another key", null);
    }
    try {
      if (!SpiffeId.parse(onlyUri(newLeaf)).equals(id)) {
        throw new RenewalException("CA answered with a certificate for " + onlyUri(newLeaf) + ", not " + id, null);
      }
      for (int i = 0; i < chain.size(); i++) {
        chain.get(i).verify((i + 1 < chain.size() ? chain.get(i + 1) : root).getPublicKey());
      }
      newLeaf.checkValidity();
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new RenewalException("CA answered with a chain that does not verify against " + config.rootCert() + ": "
          + e.getMessage(), e);
    }
    // Key first: a reader that sees the new chain finds the new key already there.
    SecureFiles.writeSecret(config.key(), Pem.encode(pair.getPrivate()));
    SecureFiles.writePublic(config.certChain(), Pem.encode(chain));
    renewals++;
    log.info("Renewed {}: valid until {}", id, newLeaf.getNotAfter().toInstant());
  }

  private List<X509Certificate> createCertificate(ManagedChannel channel, String csr) throws RenewalException {
    IstioCertificateResponse response = IstioCertificateServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .createCertificate(IstioCertificateRequest.newBuilder().setCsr(csr)
            .setValidityDuration(config.requestedTtl().toSeconds()).build());
    if (response.getCertChainCount() < 2) {
      throw new RenewalException("CA answered with " + response.getCertChainCount()
          + " certificates (expected: leaf ... root)", null);
    }
    List<X509Certificate> chain = new ArrayList<>();
    // Leaf and intermediates; the root stays the one we trust.
    for (int i = 0; i < response.getCertChainCount() - 1; i++) {
      chain.add(parse(response.getCertChain(i)));
    }
    return chain;
  }

  private List<X509Certificate> handleCsr(ManagedChannel channel, String csr) throws RenewalException {
    Response response = IstioCAServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
        .handleCSR(Request.newBuilder().setCsrPem(ByteString.copyFromUtf8(csr)).build());
    if (!response.getIsApproved()) {
      throw new RenewalException("CA did not approve the CSR: " + response.getStatus().getMessage(), null);
    }
    try {
      return Pem.readCertificates(response.getSignedCertChain().toStringUtf8(), "signed_cert_chain");
    } catch (IllegalArgumentException e) {
      throw new RenewalException(e.getMessage(), e);
    }
  }

  private static X509Certificate parse(String pem) throws RenewalException {
    try {
      return Pem.readCertificate(pem, "cert_chain");
    } catch (IllegalArgumentException e) {
      throw new RenewalException(e.getMessage(), e);
    }
  }

  private ManagedChannel channel(String rootPem) throws IOException {
    ChannelCredentials credentials = TlsChannelCredentials.newBuilder()
        .keyManager(new ByteArrayInputStream(SecureFiles.read(config.certChain(), "--cert-chain").getBytes(UTF_8)),
            new ByteArrayInputStream(SecureFiles.read(config.key(), "--key").getBytes(UTF_8)))
        .trustManager(new ByteArrayInputStream(rootPem.getBytes(UTF_8)))
        .build();
    ManagedChannelBuilder<?> b = Grpc.newChannelBuilder(config.caAddress(), credentials);
    if (config.caHostname() != null) {
      b.overrideAuthority(config.caHostname());
    }
    return b.build();
  }

  X509Certificate currentLeaf() throws IOException {
    return Pem.readCertificates(SecureFiles.read(config.certChain(), "--cert-chain"),
        "--cert-chain " + config.certChain()).get(0);
  }

  Instant renewalTime(X509Certificate leaf) {
    Instant notBefore = leaf.getNotBefore().toInstant();
    Instant notAfter = leaf.getNotAfter().toInstant();
    Duration life = Duration.between(notBefore, notAfter);
    return notAfter.minus(life.multipliedBy(config.gracePeriodPercentage()).dividedBy(100));
  }

  /** The identity of a certificate: its one URI SAN, a SPIFFE ID. */
  static SpiffeId identity(X509Certificate leaf) {
    return SpiffeId.parse(onlyUri(leaf));
  }

  private static String onlyUri(X509Certificate leaf) {
    List<String> uris = new ArrayList<>();
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans != null) {
        for (List<?> san : sans) {
          if (Integer.valueOf(6).equals(san.get(0))) {
            uris.add((String) san.get(1));
          }
        }
      }
    } catch (CertificateParsingException e) {
      throw new IllegalArgumentException("certificate SANs unreadable: " + e.getMessage(), e);
    }
    if (uris.size() != 1) {
      throw new IllegalArgumentException("certificate " + leaf.getSerialNumber().toString(16) + " has " + uris.size()
          + " URI SANs " + uris + " (expected: exactly one, the node's SPIFFE ID)");
    }
    return uris.get(0);
  }
}
