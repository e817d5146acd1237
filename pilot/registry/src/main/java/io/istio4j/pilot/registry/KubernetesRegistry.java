package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Informable;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.istio4j.pilot.model.RegistryEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services from a Kubernetes API server: fabric8 informers on Services, Endpoints and Pods (in all
 * namespaces or one) and Nodes, turned into the model by {@link KubernetesConversion}.
 *
 * <p>Informers only say which object changed; the registry's single thread then reads that
 * object's current state from the informer's cache and applies it (level-triggered, so a late or
 * repeated notification can never roll the view back), recomputing only the affected services,
 * and calls listeners with one {@link RegistryEvent} per changed hostname, in order.
 * {@link #hasSynced()} turns true once all four informers have listed their objects and the
 * registry has applied every one of them. API errors are logged and the informers retry (fabric8
 * re-lists and re-watches with backoff); {@link #status()} shows each informer's state.
 *
 * <pre>{@code
 * KubernetesRegistry r = new KubernetesRegistry(new KubernetesClientBuilder().build(), true,
 *     KubernetesRegistry.Options.of("cluster.local"));
 * r.addListener(e -> log.info("{}", e));
 * r.start();
 * }</pre>
 */
public final class KubernetesRegistry extends IndexedRegistry {
  private static final Logger log = LoggerFactory.getLogger(KubernetesRegistry.class);

  /** The registry name used in events and logs (upstream's {@code --registries} value). */
  public static final String NAME = "Kubernetes";

  /**
   * How to watch.
   *
   * @param domain the DNS suffix of hostnames, e.g. {@code cluster.local}
   * @param namespace the only namespace to watch, or null for all (Nodes are always watched)
   * @param resync how often informers replay their cache (zero: never; the registry does not
   *     need it, as it is level-triggered)
   */
  public record Options(String domain, @Nullable String namespace, Duration resync) {
    public Options {
      requireNonNull(domain, "domain");
      requireNonNull(resync, "resync");
      if (domain.isEmpty()) {
        throw new IllegalArgumentException("Kubernetes registry: domain is empty (expected e.g. cluster.local)");
      }
      if (resync.isNegative()) {
        throw new IllegalArgumentException("Kubernetes registry: resync " + resync + " is negative");
      }
      if (namespace != null && namespace.isEmpty()) {
        namespace = null;
      }
    }

    /** All namespaces, no resync. */
    public static Options of(String domain) {
      return new Options(domain, null, Duration.ZERO);
    }
  }

  private enum Kind {
    NODE("Node"),
    POD("Pod"),
    SERVICE("Service"),
    ENDPOINTS("Endpoints");

    final String displayName;

    Kind(String displayName) {
      this.displayName = displayName;
    }
  }

  /** Per informer: errors seen, for logs and {@link #status()}. */
  private static final class InformerState {
    final AtomicLong errors = new AtomicLong();
    volatile @Nullable String lastError;
    volatile @Nullable Instant lastErrorAt;
  }

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final Options options;
  private final ExecutorService thread;
  private final Map<Kind, InformerState> states = new LinkedHashMap<>();
  private volatile @Nullable SharedIndexInformer<Service> services;
  private volatile @Nullable SharedIndexInformer<Endpoints> endpoints;
  private volatile @Nullable SharedIndexInformer<Pod> pods;
  private volatile @Nullable SharedIndexInformer<Node> nodes;
  private volatile boolean closed;
  private volatile boolean nodesUnavailable;
  private boolean started;

  /**
   * A registry reading through {@code client}.
   *
   * @param ownsClient whether {@link #close()} closes the client too
   */
  public KubernetesRegistry(KubernetesClient client, boolean ownsClient, Options options) {
    super(new KubernetesIndex(NAME, options.domain()));
    this.client = requireNonNull(client, "client");
    this.ownsClient = ownsClient;
    this.options = options;
    for (Kind k : Kind.values()) {
      states.put(k, new InformerState());
    }
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "istio4j-registry-kubernetes");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public String name() {
    return NAME;
  }



  @Override
  public synchronized void start() {
    if (started) {
      return;
    }
    if (closed) {
      throw new IllegalStateException("Kubernetes registry: start() after close()");
    }
    started = true;
    long resyncMs = options.resync().toMillis();
    nodes = informer(Kind.NODE, client.nodes(), resyncMs);
    pods = informer(Kind.POD, scope(client.pods()), resyncMs);
    services = informer(Kind.SERVICE, scope(client.services()), resyncMs);
    endpoints = informer(Kind.ENDPOINTS, scope(client.endpoints()), resyncMs);
    List<CompletableFuture<Void>> starts = new ArrayList<>();
    // Nodes only give zones: a Pilot not allowed to list them (a namespace-scoped role) must still
    // serve, with instances that have no zone, rather than never becoming ready.
    starts.add(nodes.start().toCompletableFuture().exceptionally(t -> {
      if (!closed) {
        nodesUnavailable = true;
        log.error("Kubernetes registry: cannot watch Nodes ({}); instances will have no availability zone",
            String.valueOf(t.getMessage()));
      }
      return null;
    }));
    for (SharedIndexInformer<?> inf : List.of(pods, services, endpoints)) {
      starts.add(inf.start().toCompletableFuture());
    }
    CompletableFuture.allOf(starts.toArray(new CompletableFuture<?>[0]))
        .whenComplete((v, t) -> {
          if (t != null) {
            if (!closed) {
              log.error("Kubernetes registry: informers did not start", t);
            }
            return;
          }
          submit(this::reconcile);
        });
    log.info(
        "Kubernetes registry: watching Services, Endpoints, Pods in {} and Nodes (domain {})",
        options.namespace() == null ? "all namespaces" : "namespace " + options.namespace(),
        options.domain());
  }

  private <T extends HasMetadata, L, R extends Resource<T>> Informable<T> scope(MixedOperation<T, L, R> op) {
    String ns = options.namespace();
    return ns == null ? op.inAnyNamespace() : op.inNamespace(ns);
  }

  private <T extends HasMetadata> SharedIndexInformer<T> informer(Kind kind, Informable<T> op, long resyncMs) {
    SharedIndexInformer<T> inf = op.runnableInformer(resyncMs);
    inf.addEventHandler(new ResourceEventHandler<T>() {
      @Override
      public void onAdd(T obj) {
        changed(kind, obj);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        String oldVersion = oldObj.getMetadata() == null ? null : oldObj.getMetadata().getResourceVersion();
        String newVersion = newObj.getMetadata() == null ? null : newObj.getMetadata().getResourceVersion();
        if (oldVersion != null && oldVersion.equals(newVersion)) {
          return; // a resync replay: nothing changed
        }
        changed(kind, newObj);
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        changed(kind, obj);
      }
    });
    InformerState state = states.get(kind);
    inf.exceptionHandler((isStarted, t) -> {
      if (closed) {
        return false;
      }
      long n = state.errors.incrementAndGet();
      state.lastError = t.toString();
      state.lastErrorAt = Instant.now();
      if (kind == Kind.NODE && forbidden(t)) {
        return false; // retrying cannot fix a missing permission; start() goes on without zones
      }
      // The first error and then every tenth: the API server being down must not flood the log.
      if (n == 1 || n % 10 == 0) {
        log.warn(
            "Kubernetes registry: {} {} failed ({} errors so far): {}; retrying",
            kind.displayName,
            isStarted ? "watch" : "list",
            n,
            t.toString());
      }
      return true;
    });
    inf.stopped().whenComplete((v, t) -> {
      if (t != null && !closed && !(kind == Kind.NODE && forbidden(t))) {
        log.error("Kubernetes registry: the {} informer stopped; the registry no longer follows changes",
            kind.displayName, t);
      }
    });
    return inf;
  }

  private static boolean forbidden(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof KubernetesClientException k && (k.getCode() == 403 || k.getCode() == 401)) {
        return true;
      }
    }
    return false;
  }

  private void changed(Kind kind, HasMetadata obj) {
    String key = Cache.metaNamespaceKeyFunc(obj);
    submit(() -> apply(kind, key));
  }

  private void submit(Runnable task) {
    try {
      thread.execute(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          log.error("Kubernetes registry: applying a change failed", e);
        }
      });
    } catch (RejectedExecutionException e) {
      if (!closed) {
        throw e;
      }
    }
  }

  // Runs on the registry thread: applies the cache's current state of one object.
  private void apply(Kind kind, String key) {
    List<RegistryEvent> events = new ArrayList<>();
    applyKey(kind, key, events);
    fire(events, log);
  }

  private void applyKey(Kind kind, String key, List<RegistryEvent> events) {
    switch (kind) {
      case SERVICE -> {
        Service s = services.getStore().getByKey(key);
        if (s == null) {
          index.removeService(key, events);
        } else {
          index.putService(s, events);
        }
      }
      case ENDPOINTS -> {
        Endpoints e = endpoints.getStore().getByKey(key);
        if (e == null) {
          index.removeEndpoints(key, events);
        } else {
          index.putEndpoints(e, events);
        }
      }
      case POD -> {
        Pod p = pods.getStore().getByKey(key);
        if (p == null) {
          index.removePod(key, events);
        } else {
          index.putPod(p, events);
        }
      }
      case NODE -> {
        Node n = nodes.getStore().getByKey(key);
        if (n == null) {
          index.removeNode(key, events);
        } else {
          index.putNode(n, events);
        }
      }
    }
  }

  // Runs on the registry thread once every informer has listed: the index then matches the
  // caches even if some notifications of the initial listing are still on their way.
  private void reconcile() {
    List<RegistryEvent> events = new ArrayList<>();
    if (!nodesUnavailable) {
      reconcile(Kind.NODE, nodes, index.nodeNames(), events);
    }
    reconcile(Kind.POD, pods, index.podKeys(), events);
    reconcile(Kind.SERVICE, services, index.serviceKeys(), events);
    reconcile(Kind.ENDPOINTS, endpoints, index.endpointsKeys(), events);
    markSynced();
    log.info(
        "Kubernetes registry: synced, {} services, {} instances",
        index.services().size(),
        index.instanceCount());
    fire(events, log);
  }

  private <T extends HasMetadata> void reconcile(
      Kind kind, SharedIndexInformer<T> inf, Set<String> known, List<RegistryEvent> events) {
    Set<String> present = new HashSet<>(inf.getStore().listKeys());
    for (String key : present) {
      applyKey(kind, key, events);
    }
    for (String key : known) {
      if (!present.contains(key)) {
        applyKey(kind, key, events);
      }
    }
  }

















  /** Each informer's state (watching, synced, errors) and the counts of what the registry holds. */
  @Override
  public Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("namespace", options.namespace() == null ? "" : options.namespace());
    out.put("domain", options.domain());
    out.put("synced", hasSynced());
    out.put("services", index.services().size());
    out.put("instances", index.instanceCount());
    out.put("events", eventsFired());
    if (nodesUnavailable) {
      out.put("nodesUnavailable", true);
    }
    Map<String, Object> informers = new LinkedHashMap<>();
    Map<Kind, SharedIndexInformer<?>> all = new LinkedHashMap<>();
    all.put(Kind.SERVICE, services);
    all.put(Kind.ENDPOINTS, endpoints);
    all.put(Kind.POD, pods);
    all.put(Kind.NODE, nodes);
    for (Map.Entry<Kind, SharedIndexInformer<?>> e : all.entrySet()) {
      Map<String, Object> s = new LinkedHashMap<>();
      SharedIndexInformer<?> inf = e.getValue();
      InformerState st = states.get(e.getKey());
      s.put("synced", inf != null && inf.hasSynced());
      s.put("watching", inf != null && inf.isWatching());
      s.put("objects", inf == null ? 0 : inf.getStore().listKeys().size());
      s.put("errors", st.errors.get());
      if (st.lastError != null) {
        s.put("lastError", st.lastError);
        s.put("lastErrorAt", String.valueOf(st.lastErrorAt));
      }
      informers.put(e.getKey().displayName, s);
    }
    out.put("informers", informers);
    return out;
  }

  @Override
  public void close() {
    closed = true;
    for (SharedIndexInformer<?> inf : new SharedIndexInformer<?>[] {services, endpoints, pods, nodes}) {
      if (inf != null) {
        try {
          inf.close();
        } catch (RuntimeException e) {
          log.debug("Kubernetes registry: closing an informer failed", e);
        }
      }
    }
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (ownsClient) {
      client.close();
    }
  }
}
