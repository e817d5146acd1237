package io.istio4j.mixer.server.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.istio4j.mixer.runtime.config.ConfigObject;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.YamlDocuments;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code k8s://}: Mixer's config as {@code config.istio.io/v1alpha2} custom resources, one kind per
 * adapter and template plus {@code rules} and {@code attributemanifests}, watched with fabric8
 * informers in every namespace or in the namespaces given.
 *
 * <p>The store is level-triggered: an informer event only marks the content dirty; after {@code
 * batch} (upstream batched changes for 1 s) the whole content is read again from the informers'
 * caches and handed to the runtime when it differs from what was handed out last. A resync, a
 * relist after a reconnect, or a burst of {@code kubectl apply} therefore costs one rebuild, and a
 * lost or duplicated event cannot leave Mixer with a wrong view. Each object becomes a {@link
 * ConfigObject} exactly as a YAML document of {@code fs://} does, so the same snapshot pipeline,
 * last-known-good versions and {@code /debug/config} apply; its source says where it lives and
 * which version it is ({@code k8s:rules/istio-system/deny@4711}).
 *
 * <p>While the API server is away, the caches keep the last content and Mixer keeps serving it;
 * fabric8 lists and watches again with backoff, and whatever changed meanwhile arrives as one
 * change. {@link #start} returns only when every kind has been listed once, so Mixer is never
 * ready with a partial config; a kind whose CRD is missing (404) is waited for only {@code
 * missingKindGrace}, then left out with a warning until its CRD appears.
 */
public final class KubernetesStore implements ConfigStore {

  private static final Logger log = LoggerFactory.getLogger(KubernetesStore.class);
  private static final Duration PROGRESS_LOG_INTERVAL = Duration.ofSeconds(10);
  private static final Duration WAIT_SLICE = Duration.ofMillis(200);

  /**
   * How the store watches.
   *
   * @param namespaces the namespaces to watch; empty for all
   * @param defaultNamespace the namespace of an object that names none (never, from the API server)
   * @param batch how long changes are collected before one rebuild
   * @param resync how often informers replay their caches (zero: never)
   * @param missingKindGrace how long start waits for a kind whose CRD is not installed
   */
  public record Options(List<String> namespaces, String defaultNamespace, Duration batch, Duration resync,
      Duration missingKindGrace) {
    /** Checks and copies the parts. */
    public Options {
      namespaces = List.copyOf(requireNonNull(namespaces, "namespaces"));
      requireNonNull(defaultNamespace, "defaultNamespace");
      requireNonNull(batch, "batch");
      requireNonNull(resync, "resync");
      requireNonNull(missingKindGrace, "missingKindGrace");
      if (batch.isNegative() || resync.isNegative() || missingKindGrace.isNegative()) {
        throw new IllegalArgumentException("k8s:// store: batch " + batch + ", resync " + resync
            + ", missingKindGrace " + missingKindGrace + " (expected: none negative)");
      }
    }

    /** Every namespace; 100 ms batches, a resync every 5 minutes, 60 s for missing CRDs. */
    public static Options defaults(String defaultNamespace) {
      return new Options(List.of(), defaultNamespace, Duration.ofMillis(100), Duration.ofMinutes(5),
          Duration.ofSeconds(60));
    }

    /** A copy watching only {@code list} (empty: all). */
    public Options withNamespaces(List<String> list) {
      return new Options(list, defaultNamespace, batch, resync, missingKindGrace);
    }
  }

  /** One informer: a kind in one namespace (or all). */
  private record Watch(MixerKind kind, String namespace, SharedIndexInformer<GenericKubernetesResource> informer,
      CompletableFuture<Void> listed, InformerErrors errors) {}

  /** The errors of one informer, for logs and for knowing a missing CRD. */
  private static final class InformerErrors {
    final AtomicLong count = new AtomicLong();
    volatile Throwable last;
  }

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final List<MixerKind> kinds;
  private final Options options;
  private final List<Watch> watches = new ArrayList<>();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "config-k8s");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;
  private Consumer<Content> onChange;
  private Consumer<Throwable> onFailure;
  /** Set once every kind is listed: from then on, events lead to rebuilds. */
  private volatile boolean listed;
  /** The content last handed out; null until start has read the first. */
  private volatile Content handedOut;

  /**
   * @param client the API server's client
   * @param ownsClient whether {@link #close()} closes the client
   * @param kinds the kinds to watch ({@link MixerKind#of})
   * @param options namespaces and timings
   */
  public KubernetesStore(KubernetesClient client, boolean ownsClient, List<MixerKind> kinds, Options options) {
    this.client = requireNonNull(client, "client");
    this.ownsClient = ownsClient;
    this.kinds = List.copyOf(requireNonNull(kinds, "kinds"));
    this.options = requireNonNull(options, "options");
  }

  /** {@code k8s://...} with the namespaces watched, for logs. */
  public String describe() {
    return client.getMasterUrl() + (options.namespaces().isEmpty() ? " (all namespaces)"
        : " (namespaces " + String.join(", ", options.namespaces()) + ")");
  }

  @Override
  public Content start(Consumer<Content> changes) throws IOException {
    return start(changes, e -> { });
  }

  @Override
  public synchronized Content start(Consumer<Content> changes, Consumer<Throwable> failures) throws IOException {
    this.onChange = requireNonNull(changes, "onChange");
    this.onFailure = requireNonNull(failures, "onFailure");
    if (!watches.isEmpty() || closed) {
      throw new IllegalStateException("k8s:// store: started twice, or after close()");
    }
    List<String> scopes = options.namespaces().isEmpty() ? List.of("") : options.namespaces();
    long resyncMs = options.resync().toMillis();
    for (MixerKind kind : kinds) {
      MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>>
          op = client.genericKubernetesResources(kind.context());
      for (String ns : scopes) {
        SharedIndexInformer<GenericKubernetesResource> informer = ns.isEmpty()
            ? op.inAnyNamespace().runnableInformer(resyncMs) : op.inNamespace(ns).runnableInformer(resyncMs);
        InformerErrors errors = new InformerErrors();
        informer.addEventHandler(new Changed());
        informer.exceptionHandler((started, t) -> failed(kind, ns, started, t, errors));
        watches.add(new Watch(kind, ns, informer, new CompletableFuture<>(), errors));
      }
    }
    for (Watch w : watches) {
      w.informer().start().whenComplete((v, t) -> {
        if (t == null) {
          w.listed().complete(null);
          // A kind listed late (its CRD installed after start) takes its missing-CRD problem away
          // even when it has no objects, which would send no event.
          dirty();
        }
      });
    }
    awaitListed();
    listed = true; // before the first read: a change after it is then never missed
    Content first = content();
    handedOut = first;
    log.info("config {}: listed {} kind(s), {} object(s), {} problem(s)", describe(), kinds.size(),
        first.objects().size(), first.problems().size());
    return first;
  }

  /**
   * Waits until every informer has listed its kind once; a kind whose CRD is missing is waited for
   * {@code missingKindGrace} only. Says every {@link #PROGRESS_LOG_INTERVAL} what it waits for.
   */
  private void awaitListed() throws IOException {
    long started = System.nanoTime();
    long nextLog = started + PROGRESS_LOG_INTERVAL.toNanos();
    for (;;) {
      List<Watch> waiting = new ArrayList<>();
      for (Watch w : watches) {
        if (!w.listed().isDone()) {
          waiting.add(w);
        }
      }
      if (waiting.isEmpty()) {
        return;
      }
      Duration waited = Duration.ofNanos(System.nanoTime() - started);
      if (waited.compareTo(options.missingKindGrace()) >= 0
          && waiting.stream().allMatch(w -> notFound(w.errors().last))) {
        log.warn("config {}: no CRD for {} (404 after {} s): going on without them; install them with "
            + "`mixs crds | kubectl apply -f -` and their objects apply as they appear",
            describe(), names(waiting), waited.toSeconds());
        return;
      }
      try {
        // Short waits, so that close() during a long wait ends it promptly.
        CompletableFuture.allOf(waiting.stream().map(Watch::listed).toArray(CompletableFuture[]::new))
            .get(WAIT_SLICE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        if (System.nanoTime() - nextLog >= 0) {
          nextLog = System.nanoTime() + PROGRESS_LOG_INTERVAL.toNanos();
          Throwable last = waiting.stream().map(w -> w.errors().last).filter(t -> t != null).findFirst().orElse(null);
          log.warn("config {}: still waiting to list {} after {} s{}; Mixer is not ready until then", describe(),
              names(waiting), Duration.ofNanos(System.nanoTime() - started).toSeconds(),
              last == null ? "" : " (last error: " + last + ")");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while listing config from " + describe(), e);
      } catch (ExecutionException e) {
        throw new IOException("listing config from " + describe() + " failed", e.getCause());
      }
      if (closed) {
        throw new IOException("config store closed while listing " + describe());
      }
    }
  }

  private static String names(List<Watch> watches) {
    TreeSet<String> names = new TreeSet<>();
    for (Watch w : watches) {
      names.add(w.kind().crdName() + (w.namespace().isEmpty() ? "" : " in " + w.namespace()));
    }
    return String.join(", ", names);
  }

  private static boolean notFound(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getCode() == 404) {
        return true;
      }
    }
    return false;
  }

  /** An informer's list or watch failed: count it, tell the runtime, log now and then, retry. */
  private boolean failed(MixerKind kind, String ns, boolean started, Throwable t, InformerErrors errors) {
    if (closed) {
      return false;
    }
    errors.last = t;
    long n = errors.count.incrementAndGet();
    try {
      onFailure.accept(t);
    } catch (RuntimeException e) {
      log.debug("failure listener threw", e);
    }
    if (n == 1 || n % 10 == 0) { // the API server being down must not flood the log
      log.warn("config {}: {} {}{} failed ({} error(s) so far): {}; the config in use stays, retrying",
          describe(), started ? "watching" : "listing", kind.crdName(), ns.isEmpty() ? "" : " in " + ns, n,
          notFound(t) ? "not found (is the CRD installed? mixs crds | kubectl apply -f -)" : t.toString());
    }
    return true;
  }

  /** Informer callbacks: whatever changed, the content is read again once the batch delay passes. */
  private final class Changed implements ResourceEventHandler<GenericKubernetesResource> {
    @Override
    public void onAdd(GenericKubernetesResource obj) {
      dirty();
    }

    @Override
    public void onUpdate(GenericKubernetesResource oldObj, GenericKubernetesResource newObj) {
      dirty();
    }

    @Override
    public void onDelete(GenericKubernetesResource obj, boolean deletedFinalStateUnknown) {
      dirty();
    }
  }

  private void dirty() {
    if (closed || !listed || !flushScheduled.compareAndSet(false, true)) {
      return; // before every kind is listed, start reads the caches afterwards anyway
    }
    thread.schedule(this::flush, options.batch().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void flush() {
    if (handedOut == null) { // start is between its first read and handing it out
      thread.schedule(this::flush, options.batch().toMillis(), TimeUnit.MILLISECONDS);
      return;
    }
    flushScheduled.set(false);
    try {
      Content next = content();
      if (sameContent(next, handedOut)) {
        return; // a resync, or a relist that found nothing new
      }
      handedOut = next;
      onChange.accept(next);
    } catch (Throwable e) { // NOPMD: one failed rebuild must not end the store's thread
      log.error("config {}: reading the informers' caches failed; the config in use stays", describe(), e);
      try {
        onFailure.accept(e);
      } catch (RuntimeException ignored) {
        // the failure counter itself failed; the store goes on
      }
    }
  }

  private static boolean sameContent(Content a, Content b) {
    return b != null && a.objects().equals(b.objects()) && a.problems().equals(b.problems());
  }

  /** Everything the informers hold now, as config objects, in a stable order. */
  private Content content() {
    List<ConfigObject> objects = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    for (Watch w : watches) {
      if (!w.listed().isDone() && notFound(w.errors().last)) {
        problems.add(missingCrd(w.kind(), w.namespace()));
        continue;
      }
      for (GenericKubernetesResource r : w.informer().getStore().list()) {
        ConfigObject o = toObject(w.kind(), r, options.defaultNamespace(), problems);
        if (o != null) {
          objects.add(o);
        }
      }
    }
    objects.sort(Comparator.comparing(ConfigObject::fqn).thenComparing(ConfigObject::source));
    problems.sort(Comparator.comparing(Problem::source));
    return new Content(objects, problems);
  }

  /**
   * A kind whose CRD the API server does not have (404): a problem naming the CRD, so that
   * {@code /debug/config} and {@code mixer_config_objects{state="rejected"}} show it for as long as
   * it lasts, not only a log line at start.
   */
  static Problem missingCrd(MixerKind kind, String namespace) {
    return new Problem("k8s:" + kind.plural() + (namespace.isEmpty() ? "" : "/" + namespace),
        "no CRD " + kind.crdName() + " in the API server (404): objects of kind " + kind.name()
            + " are ignored until it is installed (mixs crds | kubectl apply -f -)", "");
  }

  /** Where an object lives: {@code k8s:<plural>/<namespace>/<name>}. */
  public static String source(MixerKind kind, String namespace, String name) {
    return "k8s:" + kind.plural() + "/" + namespace + "/" + name;
  }

  /**
   * A custom resource as a config object, read as {@code fs://} reads a YAML document; null (and
   * a problem naming the object and field) when it is not one.
   */
  public static ConfigObject toObject(MixerKind kind, GenericKubernetesResource r, String defaultNamespace,
      List<Problem> problems) {
    ObjectMeta meta = r.getMetadata() == null ? new ObjectMeta() : r.getMetadata();
    String ns = meta.getNamespace() == null ? defaultNamespace : meta.getNamespace();
    String version = meta.getResourceVersion();
    String source = source(kind, ns, String.valueOf(meta.getName()))
        + (version == null || version.isEmpty() ? "" : "@" + version);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("apiVersion", r.getApiVersion());
    doc.put("kind", kind.name()); // the CRD says which kind it is, whatever the object claims
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", meta.getName());
    metadata.put("namespace", ns);
    if (meta.getLabels() != null) {
      metadata.put("labels", meta.getLabels());
    }
    doc.put("metadata", metadata);
    Object spec = r.getAdditionalProperties().get("spec");
    if (spec != null) {
      doc.put("spec", spec);
    }
    return YamlDocuments.read(doc, source, defaultNamespace, problems);
  }

  /** Lists every kind once, without watching. */
  @Override
  public Content read() throws IOException {
    List<ConfigObject> objects = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    List<String> scopes = options.namespaces().isEmpty() ? List.of("") : options.namespaces();
    try {
      for (MixerKind kind : kinds) {
        for (String ns : scopes) {
          var op = client.genericKubernetesResources(kind.context());
          GenericKubernetesResourceList list;
          try {
            list = ns.isEmpty() ? op.inAnyNamespace().list() : op.inNamespace(ns).list();
          } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
              problems.add(missingCrd(kind, ns)); // its CRD is not installed: no objects of that kind
              continue;
            }
            throw e;
          }
          for (GenericKubernetesResource r : list.getItems()) {
            ConfigObject o = toObject(kind, r, options.defaultNamespace(), problems);
            if (o != null) {
              objects.add(o);
            }
          }
        }
      }
    } catch (KubernetesClientException e) {
      throw new IOException("cannot list config from " + describe() + ": " + e.getMessage(), e);
    }
    objects.sort(Comparator.comparing(ConfigObject::fqn));
    return new Content(objects, problems);
  }

  @Override
  public void close() {
    closed = true; // ends a start() still waiting for the first lists
    synchronized (this) {
      closeWatches();
    }
  }

  private void closeWatches() {
    for (Watch w : watches) {
      w.informer().close();
    }
    thread.shutdownNow();
    if (ownsClient) {
      client.close();
    }
  }
}
