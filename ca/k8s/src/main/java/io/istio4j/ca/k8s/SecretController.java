package io.istio4j.ca.k8s;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a Secret {@code istio.<sa>} (type {@code istio.io/key-and-cert}: {@code cert-chain.pem},
 * {@code key.pem}, {@code root-cert.pem}) for every ServiceAccount in the selected namespaces, as
 * Istio 0.2's SecretController did: created with the account, recreated when deleted, deleted with
 * the account, and rotated when less than half its lifetime is left or the CA's root changed.
 *
 * <p>Informers watch ServiceAccounts and Secrets; every event and every resync only queues a
 * service account's key, and one worker reconciles keys one at a time against the API, so a burst
 * of events costs one reconcile per account.
 */
public final class SecretController implements AutoCloseable {

  /** The Secret type. */
  public static final String SECRET_TYPE = "istio.io/key-and-cert";
  /** The annotation naming the Secret's service account. */
  public static final String SA_ANNOTATION = "istio.io/service-account.name";
  /** The Secret name prefix. */
  public static final String SECRET_PREFIX = "istio.";
  /** Data keys. */
  public static final String CERT_CHAIN = "cert-chain.pem";
  /** Data keys. */
  public static final String KEY = "key.pem";
  /** Data keys. */
  public static final String ROOT_CERT = "root-cert.pem";

  private static final Logger log = LoggerFactory.getLogger(SecretController.class);
  private static final Duration RETRY = Duration.ofSeconds(5);

  private final KubernetesClient client;
  private final CertificateAuthority ca;
  private final KeyAlgorithm keyAlgorithm;
  private final List<String> namespaces;
  private final Duration resync;
  private final Consumer<String> onIssued;
  private final Runnable onError;
  private final String rootPem;
  private final List<SharedIndexInformer<ServiceAccount>> accountInformers = new ArrayList<>();
  private final List<SharedIndexInformer<Secret>> secretInformers = new ArrayList<>();
  private final Set<String> queued = new LinkedHashSet<>();
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "istio-ca-secret-controller");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean synced;

  /**
   * A controller, not started.
   *
   * @param namespaces the namespaces to serve; empty for all
   * @param resync how often every account is reconciled even without events
   * @param onIssued told "secret_controller" for each certificate issued (metrics)
   * @param onError told of each failed reconcile (metrics)
   */
  public SecretController(KubernetesClient client, CertificateAuthority ca, KeyAlgorithm keyAlgorithm,
      List<String> namespaces, Duration resync, Consumer<String> onIssued, Runnable onError) {
    this.client = requireNonNull(client, "client");
    this.ca = requireNonNull(ca, "ca");
    this.keyAlgorithm = requireNonNull(keyAlgorithm, "keyAlgorithm");
    this.namespaces = List.copyOf(namespaces);
    this.resync = requireNonNull(resync, "resync");
    this.onIssued = requireNonNull(onIssued, "onIssued");
    this.onError = requireNonNull(onError, "onError");
    this.rootPem = Pem.encode(ca.bundle().root());
  }

  /** Starts the informers and the worker; the first full pass runs once the informers have synced. */
  public void start() {
    ResourceEventHandler<ServiceAccount> accounts = new ResourceEventHandler<>() {
      @Override
      public void onAdd(ServiceAccount sa) {
        enqueue(sa.getMetadata().getNamespace(), sa.getMetadata().getName());
      }

      @Override
      public void onUpdate(ServiceAccount old, ServiceAccount sa) {
        enqueue(sa.getMetadata().getNamespace(), sa.getMetadata().getName());
      }

      @Override
      public void onDelete(ServiceAccount sa, boolean unknownFinalState) {
        enqueue(sa.getMetadata().getNamespace(), sa.getMetadata().getName());
      }
    };
    ResourceEventHandler<Secret> secrets = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Secret s) {
        // created by us, or by someone else: nothing to do until it changes or goes
      }

      @Override
      public void onUpdate(Secret old, Secret s) {
        secretChanged(s);
      }

      @Override
      public void onDelete(Secret s, boolean unknownFinalState) {
        secretChanged(s);
      }
    };
    long resyncMillis = resync.toMillis();
    if (namespaces.isEmpty()) {
      accountInformers.add(client.serviceAccounts().inAnyNamespace().inform(accounts, resyncMillis));
      secretInformers.add(client.secrets().inAnyNamespace().withField("type", SECRET_TYPE).inform(secrets, 0));
    } else {
      for (String ns : namespaces) {
        accountInformers.add(client.serviceAccounts().inNamespace(ns).inform(accounts, resyncMillis));
        secretInformers.add(client.secrets().inNamespace(ns).withField("type", SECRET_TYPE).inform(secrets, 0));
      }
    }
    // The informers' resync re-delivers every account as an update; this periodic pass also
    // covers rotation when the informers stay quiet.
    worker.scheduleWithFixedDelay(this::enqueueAll, resyncMillis, resyncMillis, TimeUnit.MILLISECONDS);
    worker.execute(this::firstPass);
    log.info("Secret controller watching ServiceAccounts in {}", namespaces.isEmpty() ? "all namespaces" : namespaces);
  }

  /** Whether the informers have synced and the first pass over every account is done. */
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public void close() {
    worker.shutdownNow();
    accountInformers.forEach(SharedIndexInformer::close);
    secretInformers.forEach(SharedIndexInformer::close);
  }

  private void firstPass() {
    for (SharedIndexInformer<?> i : accountInformers) {
      if (!i.hasSynced()) {
        worker.schedule(this::firstPass, 100, TimeUnit.MILLISECONDS);
        return;
      }
    }
    for (SharedIndexInformer<?> i : secretInformers) {
      if (!i.hasSynced()) {
        worker.schedule(this::firstPass, 100, TimeUnit.MILLISECONDS);
        return;
      }
    }
    enqueueAll();
    worker.execute(() -> {
      synced = true;
      log.info("Secret controller synced");
    });
  }

  private void enqueueAll() {
    for (SharedIndexInformer<ServiceAccount> i : accountInformers) {
      for (ServiceAccount sa : i.getStore().list()) {
        enqueue(sa.getMetadata().getNamespace(), sa.getMetadata().getName());
      }
    }
  }

  private void secretChanged(Secret s) {
    Map<String, String> annotations = s.getMetadata().getAnnotations();
    String sa = annotations == null ? null : annotations.get(SA_ANNOTATION);
    if (sa != null && SECRET_TYPE.equals(s.getType())) {
      enqueue(s.getMetadata().getNamespace(), sa);
    }
  }

  private void enqueue(String namespace, String name) {
    String key = namespace + "/" + name;
    synchronized (queued) {
      if (!queued.add(key)) {
        return;
      }
    }
    try {
      worker.execute(() -> {
        synchronized (queued) {
          queued.remove(key);
        }
        reconcile(namespace, name);
      });
    } catch (RejectedExecutionException e) {
      // shutting down
    }
  }

  private void reconcile(String namespace, String name) {
    try {
      ServiceAccount sa = account(namespace, name);
      String secretName = SECRET_PREFIX + name;
      Secret secret = client.secrets().inNamespace(namespace).withName(secretName).get();
      if (sa == null) {
        if (secret != null && ownedBy(secret, name)) {
          client.secrets().inNamespace(namespace).withName(secretName).delete();
          log.info("Deleted Secret {}/{}: its ServiceAccount is gone", namespace, secretName);
        }
        return;
      }
      if (secret == null) {
        client.secrets().inNamespace(namespace).resource(newSecret(namespace, name)).create();
        log.info("Created Secret {}/{} for ServiceAccount {}", namespace, secretName, name);
        return;
      }
      if (!ownedBy(secret, name)) {
        log.warn("Secret {}/{} exists but is not an {} Secret for ServiceAccount {}; leaving it alone", namespace,
            secretName, SECRET_TYPE, name);
        return;
      }
      String why = rotationReason(secret, SpiffeId.forServiceAccount(ca.trustDomain(), namespace, name));
      if (why != null) {
        Secret fresh = newSecret(namespace, name);
        fresh.getMetadata().setResourceVersion(secret.getMetadata().getResourceVersion());
        client.secrets().inNamespace(namespace).resource(fresh).update();
        log.info("Rotated Secret {}/{}: {}", namespace, secretName, why);
      }
    } catch (KubernetesClientException | IllegalStateException e) {
      onError.run();
      log.warn("Reconciling ServiceAccount {}/{} failed ({}); retrying in {}", namespace, name, e.getMessage(), RETRY);
      try {
        worker.schedule(() -> enqueue(namespace, name), RETRY.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException ignored) {
        // shutting down
      }
    }
  }

  private @Nullable ServiceAccount account(String namespace, String name) {
    for (SharedIndexInformer<ServiceAccount> i : accountInformers) {
      ServiceAccount sa = i.getStore().getByKey(namespace + "/" + name);
      if (sa != null) {
        return sa;
      }
    }
    return null;
  }

  private static boolean ownedBy(Secret secret, String sa) {
    Map<String, String> annotations = secret.getMetadata().getAnnotations();
    return SECRET_TYPE.equals(secret.getType()) && annotations != null && sa.equals(annotations.get(SA_ANNOTATION));
  }

  /** Why the Secret needs a new key and certificate, or null when it is fine. */
  @Nullable String rotationReason(Secret secret, SpiffeId id) {
    Map<String, String> data = secret.getData();
    if (data == null || data.get(CERT_CHAIN) == null || data.get(KEY) == null || data.get(ROOT_CERT) == null) {
      return "data keys missing";
    }
    try {
      if (!rootPem.equals(decode(data.get(ROOT_CERT)))) {
        return "the CA root changed";
      }
      X509Certificate leaf = Pem.readCertificates(decode(data.get(CERT_CHAIN)), CERT_CHAIN).get(0);
      if (leaf.getSubjectAlternativeNames() == null
          || !leaf.getSubjectAlternativeNames().contains(List.of(6, id.toString()))) {
        return "certificate does not name " + id;
      }
      Instant notBefore = leaf.getNotBefore().toInstant();
      Instant notAfter = leaf.getNotAfter().toInstant();
      Instant halfLife = notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
      if (!Instant.now().isBefore(halfLife)) {
        return "certificate past half its lifetime (expires " + notAfter + ")";
      }
      return null;
    } catch (Exception e) {
      return "certificate unreadable (" + e.getMessage() + ")";
    }
  }

  private Secret newSecret(String namespace, String name) {
    IssuedIdentity id = ca.issue(SpiffeId.forServiceAccount(ca.trustDomain(), namespace, name), keyAlgorithm,
        Duration.ZERO);
    onIssued.accept("secret_controller");
    return new SecretBuilder()
        .withNewMetadata().withName(SECRET_PREFIX + name).withNamespace(namespace)
        .withAnnotations(Map.of(SA_ANNOTATION, name)).endMetadata()
        .withType(SECRET_TYPE)
        .withData(Map.of(CERT_CHAIN, encode(id.certificate().certChainPem()), KEY, encode(id.keyPem()),
            ROOT_CERT, encode(rootPem)))
        .build();
  }

  private static String encode(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(UTF_8));
  }

  private static String decode(String s) {
    return new String(Base64.getDecoder().decode(s), UTF_8);
  }
}
