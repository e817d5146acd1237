package io.istio4j.ca.server;

import static java.util.Objects.requireNonNull;

import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.KeyAlgorithm;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CA's own TLS serving certificate for {@code --grpc-hostname}, issued by the CA itself and
 * renewed at half its lifetime. The key manager hands every new handshake the current certificate,
 * so renewal needs no restart and open connections keep theirs.
 */
final class ServingCertificate extends X509ExtendedKeyManager {

  private static final Logger log = LoggerFactory.getLogger(ServingCertificate.class);
  /** When renewal fails, try again after this long (or sooner, before the certificate expires). */
  private static final Duration RETRY = Duration.ofSeconds(30);

  /** One issued certificate; the alias names its generation, so a handshake that asks for the
   *  chain and then the key during a renewal gets a matching pair. */
  private record Current(String alias, PrivateKey key, X509Certificate[] chain) {}

  private final CertificateAuthority ca;
  private final List<String> hostnames;
  private final KeyAlgorithm algorithm;
  private final Duration ttl;
  private final CaMetrics metrics;
  private final AtomicReference<Current> current = new AtomicReference<>();
  private volatile Current previous;
  private long generation;

  ServingCertificate(CertificateAuthority ca, List<String> hostnames, KeyAlgorithm algorithm, Duration ttl,
      CaMetrics metrics) {
    this.ca = requireNonNull(ca, "ca");
    this.hostnames = List.copyOf(hostnames);
    this.algorithm = requireNonNull(algorithm, "algorithm");
    this.ttl = requireNonNull(ttl, "ttl");
    this.metrics = requireNonNull(metrics, "metrics");
    renew();
  }

  /** Issues a new certificate now. */
  void renew() {
    IssuedIdentity id = ca.issueServing(hostnames, algorithm, ttl);
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(id.certificate().leaf());
    chain.addAll(id.certificate().chain());
    synchronized (this) {
      generation++;
      previous = current.getAndSet(new Current("istio-ca-serving-" + generation, id.key(),
          chain.toArray(new X509Certificate[0])));
    }
    metrics.serving(id.certificate().leaf());
    metrics.issuedBy("serving");
    log.info("Serving certificate for {} issued, valid until {}", hostnames, id.certificate().leaf().getNotAfter().toInstant());
  }

  /** The certificate handed to new handshakes. */
  X509Certificate leaf() {
    return current.get().chain()[0];
  }

  /** Renews at half-life from now on, on {@code scheduler}. */
  void scheduleRenewal(ScheduledExecutorService scheduler) {
    // Half of what is left now (the certificate was just issued), not of notBefore..notAfter:
    // notBefore is backdated.
    long delay = Math.max(1000, (leaf().getNotAfter().getTime() - Instant.now().toEpochMilli()) / 2);
    scheduler.schedule(() -> {
      try {
        renew();
      } catch (RuntimeException e) {
        metrics.error("serving_cert");
        log.error("Renewing the serving certificate failed; retrying in {}", RETRY, e);
        scheduler.schedule(() -> scheduleRenewal(scheduler), RETRY.toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
      scheduleRenewal(scheduler);
    }, delay, TimeUnit.MILLISECONDS);
  }

  private boolean matches(String keyType) {
    if (keyType == null) {
      return true;
    }
    String alg = current.get().key().getAlgorithm();
    return alg.equals("EC") ? keyType.startsWith("EC") : keyType.contains(alg);
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return matches(keyType) ? new String[] {current.get().alias()} : null;
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return matches(keyType) ? current.get().alias() : null;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return matches(keyType) ? current.get().alias() : null;
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Current c = byAlias(alias);
    return c == null ? null : c.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Current c = byAlias(alias);
    return c == null ? null : c.key();
  }

  private Current byAlias(String alias) {
    Current c = current.get();
    if (c.alias().equals(alias)) {
      return c;
    }
    Current p = previous;
    return p != null && p.alias().equals(alias) ? p : null;
  }
}
