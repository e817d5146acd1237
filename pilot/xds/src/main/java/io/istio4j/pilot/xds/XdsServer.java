package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigStore;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceInstance;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pilot's xDS v3 server: serves listeners, routes, clusters and endpoints over ADS to Envoy
 * sidecars ({@code node.id} = {@code sidecar~<ip>~<id>~<domain>}) and to proxyless gRPC clients
 * (any other node id), from a registry view, a config store and mesh options.
 *
 * <pre>{@code
 * XdsServer xds = new XdsServer(aggregateRegistry, configStore, XdsOptions.defaults());
 * registry.addListener(xds::onRegistryEvent);
 * configStore.addListener(xds::onConfigEvent);
 * Server grpc = NettyServerBuilder.forPort(15010).addService(xds.adsService()).build().start();
 * ... once registries and config have synced:
 * xds.markSynced();
 * }</pre>
 *
 * <p>No client gets config before {@link #markSynced()}: their watches stay open and are answered by
 * the first full push. Changes are batched: config and service changes for {@link
 * XdsOptions#debounce()}, then every proxy's resources are rebuilt; endpoint-only changes for
 * {@link XdsOptions#edsDebounce()}, then only the endpoint sets of the changed services are rebuilt
 * and only clients using them get an EDS response. All snapshot building happens on one thread.
 */
public final class XdsServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(XdsServer.class);
  static final Context.Key<SocketAddress> PEER = Context.key("xds-peer");
  private static final String PROXYLESS_GROUP = "proxyless";
  /**
   * How long a cluster a push removed is still served. Clients apply clusters before routes (ADS
   * order), so without this a route still naming the old cluster would fail between the CDS and
   * the RDS update: the removal-side twin of 0.2's 404 window.
   */
  static final long RETIRE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final ServiceDiscovery discovery;
  private final ConfigStore store;
  private final XdsOptions options;
  private final MeshSecurity security;
  private final XdsCache cache;
  private final V3DiscoveryServer discoveryServer;
  private final AdsService ads;
  private final XdsStats stats;
  private final ScheduledExecutorService pushThread;
  private final List<Executor> sendExecutors;
  private final AtomicLong versions = new AtomicLong();

  // Owned by the push thread.
  private final EndpointIndex endpoints = new EndpointIndex();
  private final Map<String, Group> groups = new LinkedHashMap<>();
  private final Map<Message, Boolean> validated = new HashMap<>();
  private final Map<Message, Boolean> cleanVirtualHosts = new IdentityHashMap<>();
  private final Interner interner = new Interner();
  /**
   * Snapshot maps built in the current push, by resource list instance: groups with the same
   * (interned) list share one map instead of each building its own. Cleared at each push's start.
   */
  private final Map<List<?>, SnapshotResources<?>> snapshotMaps = new IdentityHashMap<>();
  /** SDS secrets by identity, and the certificate they were made of. */
  private final Map<String, List<Secret>> secretCache = new HashMap<>();
  private final Map<String, WorkloadCertificate> secretCacheKey = new HashMap<>();
  /** Node ids already reported as running several service accounts. */
  private final Set<String> ambiguousIdentity = new HashSet<>();
  /** Bad mode annotations already reported. */
  private final Set<String> reportedMtlsErrors = new HashSet<>();
  private @Nullable PushContext context;
  private volatile List<String> mtlsErrors = List.of();

  // Pending changes, guarded by "this".
  private boolean fullPending;
  private final Set<String> servicesChanged = new HashSet<>();
  private final Set<String> instancesChanged = new HashSet<>();
  private long firstEventNanos;
  private @Nullable ScheduledFuture<?> scheduled;
  private volatile boolean synced;
  private volatile boolean pushedOnce;
  private volatile boolean closed;

  /** A cluster no longer translated, still served (with its endpoints) until {@code untilNanos}. */
  private record Retired(Cluster cluster, @Nullable ClusterLoadAssignment endpoints, long untilNanos) {}

  /** A snapshot group: one node id (sidecars) or all proxyless clients, and what they were last served. */
  private static final class Group {
    final ProxyNode node;
    int clients;
    /** What the translation produced. */
    @Nullable ProxyResources base;
    /** What is served: the base plus retired clusters still draining. */
    @Nullable ProxyResources resources;
    /** Clusters a push dropped, kept until clients have moved their routes off them. */
    final Map<String, Retired> retired = new HashMap<>();
    String clusterVersion = "";
    String endpointVersion = "";
    String listenerVersion = "";
    String routeVersion = "";
    Set<String> endpointKeys = Set.of();
    /** The group's endpoint versions, newest first, with what each changed (see {@link XdsSnapshot}). */
    List<XdsSnapshot.EdsChange> edsHistory = List.of();
    // The snapshot's per-type maps and the versions they were built for.
    @Nullable SnapshotResources<Cluster> cds;
    @Nullable SnapshotResources<ClusterLoadAssignment> eds;
    @Nullable SnapshotResources<Listener> lds;
    @Nullable SnapshotResources<RouteConfiguration> rds;
    String cdsBuilt = "";
    String edsBuilt = "";
    String ldsBuilt = "";
    String rdsBuilt = "";
    /** The identity whose certificate the group is served (null: none, or not exactly one). */
    @Nullable String identity;
    /** The SDS secrets served ({@code default}, {@code ROOTCA}), empty until the certificate exists. */
    List<Secret> secrets = List.of();
    String secretVersion = "";
    @Nullable SnapshotResources<Secret> sds;
    String sdsBuilt = "";

    Group(ProxyNode node) {
      this.node = node;
    }
  }

  public XdsServer(ServiceDiscovery discovery, ConfigStore store, XdsOptions options) {
    this(discovery, store, options, MeshSecurity.disabled());
  }

  /**
   * A server with mutual TLS settings: per-port modes on clusters and inbound listeners, and the
   * workload certificates of {@code security.secrets()} served over SDS (secrets {@code default}
   * and {@code ROOTCA}) to each sidecar for the one service account of its instances.
   */
  public XdsServer(ServiceDiscovery discovery, ConfigStore store, XdsOptions options, MeshSecurity security) {
    this.security = requireNonNull(security, "security");
    this.discovery = requireNonNull(discovery, "discovery");
    this.store = requireNonNull(store, "store");
    this.options = requireNonNull(options, "options");
    this.cache = new XdsCache(node -> groupKey(node.getId()));
    // Responses go out on a few single-thread executors, each stream pinned to one (order kept),
    // so the push thread does not serialize and write to every client itself; identical resources
    // (shared by groups, or unchanged since the last push) are serialized once.
    int senders = Math.max(2, Runtime.getRuntime().availableProcessors());
    List<Executor> executors = new ArrayList<>();
    for (int i = 0; i < senders; i++) {
      int n = i;
      executors.add(Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "xds-send-" + n);
        t.setDaemon(true);
        return t;
      }));
    }
    this.sendExecutors = List.copyOf(executors);
    AtomicInteger next = new AtomicInteger();
    SharedSerializer serializer = new SharedSerializer();
    this.discoveryServer = new V3DiscoveryServer(List.of(), cache, () -> {
      Executor e = sendExecutors.get(Math.floorMod(next.getAndIncrement(), sendExecutors.size()));
      AdsService.PICKED.set(e);
      return e;
    }, serializer);
    this.ads = new AdsService(discoveryServer.getAggregatedDiscoveryServiceImpl(), this, serializer);
    this.stats = new XdsStats(() -> ads.clients.size());
    this.pushThread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "xds-push");
      t.setDaemon(true);
      return t;
    });
    SecretSource secrets = security.secrets();
    if (secrets != null) {
      secrets.onChange(() -> {
        if (closed) {
          return;
        }
        try {
          pushThread.execute(this::secretPush);
        } catch (RejectedExecutionException e) {
          // closing
        }
      });
    }
  }

  /** The ADS gRPC service to add to a server (it records each client's remote address). */
  public ServerServiceDefinition adsService() {
    return ServerInterceptors.intercept(ads, new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        Context ctx = Context.current().withValue(PEER, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return Contexts.interceptCall(ctx, call, headers, next);
      }
    });
  }

  /** The server's counters. */
  public XdsStats stats() {
    return stats;
  }

  /** The options in use. */
  public XdsOptions options() {
    return options;
  }

  /** True once {@link #markSynced()} was called and the first full push is done. */
  public boolean ready() {
    return synced && pushedOnce;
  }

  /**
   * Registries and config have loaded their first complete view: build every connected client's
   * config and start answering. Until then clients wait (0.2 served half-loaded views; #1038).
   */
  public void markSynced() {
    synchronized (this) {
      if (synced) {
        return;
      }
      synced = true;
      fullPending = true;
      if (firstEventNanos == 0) {
        firstEventNanos = System.nanoTime();
      }
      schedule(0);
    }
  }

  /** Schedules a push for a registry change: endpoint-only for instance changes, full otherwise. */
  public void onRegistryEvent(RegistryEvent event) {
    requireNonNull(event, "event");
    synchronized (this) {
      if (firstEventNanos == 0) {
        firstEventNanos = System.nanoTime();
      }
      if (event.kind() == RegistryEvent.Kind.INSTANCES) {
        instancesChanged.add(event.hostname());
        schedule(options.edsDebounce().toNanos());
      } else {
        servicesChanged.add(event.hostname());
        fullPending = true;
        schedule(options.debounce().toNanos());
      }
    }
  }

  /** Schedules a full push for a config change. */
  public void onConfigEvent(ConfigEvent event) {
    requireNonNull(event, "event");
    synchronized (this) {
      if (firstEventNanos == 0) {
        firstEventNanos = System.nanoTime();
      }
      fullPending = true;
      schedule(options.debounce().toNanos());
    }
  }

  /** Every connected client's status, for /debug/adsz, sorted by node id. */
  public List<ClientStatus> clients() {
    List<ClientStatus> out = new ArrayList<>();
    for (AdsService.Client c : ads.clients.values()) {
      out.add(c.status());
    }
    out.sort((a, b) -> a.nodeId().compareTo(b.nodeId()));
    return out;
  }

  /** {@link #clients()} as JSON. */
  public String clientsJson() {
    StringBuilder b = new StringBuilder("[");
    boolean first = true;
    for (ClientStatus c : clients()) {
      b.append(first ? "\n" : ",\n");
      first = false;
      b.append("  {\"node\": ").append(Json.quote(c.nodeId()))
          .append(", \"type\": ").append(Json.quote(c.proxyType()))
          .append(", \"group\": ").append(Json.quote(c.group()))
          .append(", \"peer\": ").append(Json.quote(c.peer()))
          .append(", \"connectedSince\": ").append(Json.quote(c.connectedSince()))
          .append(", \"types\": {");
      boolean ft = true;
      for (Map.Entry<String, ClientStatus.TypeStatus> e : c.types().entrySet()) {
        ClientStatus.TypeStatus t = e.getValue();
        b.append(ft ? "" : ", ").append(Json.quote(e.getKey())).append(": {\"sentVersion\": ").append(Json.quote(t.sentVersion()))
            .append(", \"sentNonce\": ").append(Json.quote(t.sentNonce()))
            .append(", \"ackedVersion\": ").append(Json.quote(t.ackedVersion()))
            .append(", \"ackedNonce\": ").append(Json.quote(t.ackedNonce()))
            .append(", \"nacks\": ").append(t.nacks()).append('}');
        ft = false;
      }
      b.append('}');
      ClientStatus.Nack n = c.lastNack();
      if (n != null) {
        b.append(", \"lastNack\": {\"type\": ").append(Json.quote(n.type()))
            .append(", \"version\": ").append(Json.quote(n.version()))
            .append(", \"nonce\": ").append(Json.quote(n.nonce()))
            .append(", \"resources\": ").append(Json.list(n.resources()))
            .append(", \"reason\": ").append(Json.quote(n.reason()))
            .append(", \"at\": ").append(Json.quote(n.at())).append('}');
      }
      b.append('}');
    }
    return b.append(first ? "]" : "\n]").toString();
  }

  /**
   * The resources a node would be served now (a debugging aid, and the translation entry point
   * tests use): translated from a fresh read of the registry and config store.
   */
  public ProxyResources resourcesFor(String nodeId) {
    ProxyNode node = ProxyNode.parse(nodeId);
    return call(() -> translate(new PushContext(discovery, store, options, endpoints, security), node));
  }

  /** Stops the push thread. Streams end when the gRPC server that carries {@link #adsService()} stops. */
  @Override
  public void close() {
    closed = true;
    pushThread.shutdownNow();
    for (Executor e : sendExecutors) {
      ((ExecutorService) e).shutdownNow();
    }
  }

  // ---------------------------------------------------------------- groups

  static String groupKey(ProxyNode node) {
    return node.proxyless() && node.ip().isEmpty() ? PROXYLESS_GROUP : node.nodeId();
  }

  static String groupKey(String nodeId) {
    try {
      return groupKey(ProxyNode.parse(nodeId));
    } catch (IllegalArgumentException e) {
      return nodeId;
    }
  }

  /** A client opened a stream: make sure its group has a snapshot before its first watch. */
  void register(ProxyNode node) {
    call(() -> {
      String key = groupKey(node);
      Group g = groups.get(key);
      if (g == null) {
        g = new Group(node);
        groups.put(key, g);
        if (synced && context != null) {
          build(context, key, g);
        }
      }
      g.clients++;
      return null;
    });
  }

  void unregister(ProxyNode node) {
    if (closed) {
      return;
    }
    try {
      pushThread.execute(() -> {
        String key = groupKey(node);
        Group g = groups.get(key);
        if (g != null && --g.clients <= 0) {
          groups.remove(key);
          ads.dropEds(key);
          clear(key, 0);
        }
      });
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  /** Drops a group's snapshot; the cache refuses while watches of a closing stream remain, so retry. */
  private void clear(String key, int attempt) {
    if (groups.containsKey(key) || cache.clearSnapshot(key) || attempt >= 10 || closed) {
      return;
    }
    try {
      pushThread.schedule(() -> clear(key, attempt + 1), 1, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
  }

  /** True while the cache holds a snapshot for this group (tests). */
  boolean hasSnapshot(String group) {
    return call(() -> cache.getSnapshot(group) != null);
  }

  private <T> T call(Callable<T> task) {
    Future<T> f = pushThread.submit(task);
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted waiting for the push thread", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("push thread task failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      f.cancel(true);
      throw new IllegalStateException("push thread busy for 30 s", e);
    }
  }

  // ---------------------------------------------------------------- pushes

  private void schedule(long delayNanos) {
    if (!synced || closed || scheduled != null) {
      return;
    }
    scheduled = pushThread.schedule(this::push, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void push() {
    boolean full;
    Set<String> services;
    Set<String> instances;
    long since;
    synchronized (this) {
      scheduled = null;
      full = fullPending;
      services = Set.copyOf(servicesChanged);
      instances = Set.copyOf(instancesChanged);
      since = firstEventNanos;
      fullPending = false;
      servicesChanged.clear();
      instancesChanged.clear();
      firstEventNanos = 0;
    }
    snapshotMaps.clear();
    try {
      if (full) {
        for (String h : services) {
          endpoints.invalidate(h);
        }
        for (String h : instances) {
          endpoints.invalidate(h);
        }
        fullPush();
      } else if (!instances.isEmpty()) {
        edsPush(instances);
      }
      stats.push(full, System.nanoTime() - since);
      if (log.isDebugEnabled()) {
        log.debug("{} push: {} groups, {} ms after the first change", full ? "full" : "endpoint", groups.size(),
            (System.nanoTime() - since) / 1_000_000);
      }
    } catch (RuntimeException e) {
      log.error("push failed; clients keep their last config", e);
    }
  }

  private void fullPush() {
    long start = System.nanoTime();
    PushContext ctx = new PushContext(discovery, store, options, endpoints, security);
    ctx.interner = interner;
    context = ctx;
    // Cached validation results of resources no longer served are dropped now and then.
    if (validated.size() > 500_000 || cleanVirtualHosts.size() > 500_000) {
      validated.clear();
      cleanVirtualHosts.clear();
    }
    for (Map.Entry<String, Group> e : groups.entrySet()) {
      build(ctx, e.getKey(), e.getValue());
    }
    reportMtlsErrors(ctx);
    stats.ingressRulesNotServed(ctx.ingressProblems.size());
    interner.endPush();
    pushedOnce = true;
    log.debug("full push of {} groups in {} ms", groups.size(), (System.nanoTime() - start) / 1_000_000);
  }

  /** Logs each bad mode annotation once (and counts it), while it stays; lists them for /metrics. */
  private void reportMtlsErrors(PushContext ctx) {
    for (String error : ctx.mtlsErrors) {
      if (reportedMtlsErrors.add(error)) {
        stats.mtlsConfigError();
        log.error("mutual TLS configuration problem: {}", error);
      }
    }
    reportedMtlsErrors.retainAll(ctx.mtlsErrors);
    mtlsErrors = List.copyOf(ctx.mtlsErrors);
  }

  /** The bad {@code auth.istio.io/<port>} annotations of the last full push, each naming service, annotation and value. */
  public List<String> mtlsErrors() {
    return mtlsErrors;
  }

  /**
   * Rebuilds the endpoint sets of these services and re-serves the groups that use them. Groups
   * with the same (interned) endpoint list share the refreshed list and its snapshot map, so the
   * work per view is done once, not once per client group.
   */
  private void edsPush(Set<String> hosts) {
    PushContext ctx = context;
    if (ctx == null) {
      return;
    }
    Set<String> changed = new HashSet<>();
    for (String h : hosts) {
      changed.addAll(endpoints.invalidate(h));
    }
    if (changed.isEmpty()) {
      return;
    }
    String v = String.valueOf(versions.incrementAndGet());
    Set<String> changedNames = Set.copyOf(changed);
    // Old list instance -> refreshed list, or the old list itself when nothing in it changed.
    Map<List<ClusterLoadAssignment>, List<ClusterLoadAssignment>> refreshedLists = new IdentityHashMap<>();
    for (Map.Entry<String, Group> e : groups.entrySet()) {
      Group g = e.getValue();
      if (g.resources == null || !intersects(g.endpointKeys, changed)) {
        continue;
      }
      List<ClusterLoadAssignment> served = g.resources.endpoints();
      List<ClusterLoadAssignment> next = refreshedLists.computeIfAbsent(served, l -> refreshed(l, changed, ctx));
      if (next == served) {
        continue;
      }
      ProxyResources base = requireNonNull(g.base, "base");
      g.base = new ProxyResources(base.clusters(), refreshedLists.computeIfAbsent(base.endpoints(), l -> refreshed(l, changed, ctx)),
          base.listeners(), base.routes());
      g.resources = new ProxyResources(g.resources.clusters(), next, g.resources.listeners(), g.resources.routes());
      g.endpointVersion = v;
      edsChanged(g, v, changedNames);
      publish(e.getKey(), g, changedNames, Set.of());
    }
  }

  /** The list with the changed assignments rebuilt; the same instance when none differs. */
  private List<ClusterLoadAssignment> refreshed(List<ClusterLoadAssignment> in, Set<String> changed, PushContext ctx) {
    List<ClusterLoadAssignment> out = new ArrayList<>(in.size());
    boolean differs = false;
    for (ClusterLoadAssignment old : in) {
      ClusterLoadAssignment now = old;
      if (changed.contains(old.getClusterName())) {
        now = endpoints.refresh(ctx.discovery, old.getClusterName(), ctx);
        if (now.equals(old)) {
          now = old;
        } else {
          differs = true;
        }
      }
      out.add(now);
    }
    return differs ? List.copyOf(out) : in;
  }

  private static boolean intersects(Set<String> a, Set<String> b) {
    Set<String> small = a.size() < b.size() ? a : b;
    Set<String> large = small == a ? b : a;
    for (String s : small) {
      if (large.contains(s)) {
        return true;
      }
    }
    return false;
  }

  private ProxyResources translate(PushContext ctx, ProxyNode node) {
    return new Translator(ctx).translate(node, sources(node));
  }

  private List<ServiceInstance> sources(ProxyNode node) {
    return node.ip().isEmpty() ? List.of() : discovery.hostInstances(List.of(node.ip()));
  }

  private void build(PushContext ctx, String key, Group g) {
    List<ServiceInstance> sources = sources(g.node);
    g.identity = identity(g.node, sources);
    ProxyResources t = new Translator(ctx).translate(g.node, sources);
    if (g.node.type() == ProxyNode.Type.INGRESS) {
      stats.ingressRulesNotServed(ctx.ingressProblems.size());
    }
    // Equal resources become the same instances as last push's: the checks below and the
    // serializer's cache then work by reference.
    // Sidecars of one view share list instances: each is interned once per push.
    ProxyResources r = new ProxyResources(internOnce(t.clusters()), internOnce(t.endpoints()),
        internOnce(t.listeners()), internOnce(t.routes()));
    if (options.validateResources()) {
      r = dropInvalid(g.node, r);
    }
    List<String> missing = consistency(r, interner);
    if (!missing.isEmpty()) {
      stats.inconsistent();
      log.error("config for {} not served, it names missing resources (the last good config stays): {}",
          g.node.nodeId(), missing.size() > 10 ? missing.subList(0, 10) + " ..." : missing);
      return;
    }
    ProxyResources previous = g.base;
    g.base = r;
    r = withRetired(key, g, previous, r);
    ProxyResources old = g.resources;
    String v = String.valueOf(versions.incrementAndGet());
    Set<String> forced = Set.of();
    if (old == null || !old.clusters().equals(r.clusters())) {
      g.clusterVersion = v;
      if (old != null) {
        forced = changedEdsClusters(old.clusters(), r.clusters());
      }
    }
    boolean edsAll = false;
    if (old == null || !old.endpoints().equals(r.endpoints())) {
      g.endpointVersion = v;
      edsChanged(g, v, null);
      edsAll = true;
    }
    if (old == null || !old.listeners().equals(r.listeners())) {
      g.listenerVersion = v;
    }
    if (old == null || !old.routes().equals(r.routes())) {
      g.routeVersion = v;
    }
    g.resources = r;
    if (old == null || old.endpoints() != r.endpoints()) {
      List<ClusterLoadAssignment> cla = r.endpoints();
      g.endpointKeys = interner.derivedOf("names", cla, l -> endpointNames(cla));
    }
    publish(key, g, edsAll ? null : Set.of(), forced);
  }

  private <T extends Message> List<T> internOnce(List<T> list) {
    return interner.derivedOf("interned", list, l -> interner.internList(list));
  }

  /**
   * The EDS service names of clusters in {@code now} that are new or differ from {@code before}
   * (interned: compared by reference, in order when the lists line up).
   */
  private static Set<String> changedEdsClusters(List<Cluster> before, List<Cluster> now) {
    Set<Cluster> old = Collections.newSetFromMap(new IdentityHashMap<>());
    old.addAll(before);
    Set<String> out = new HashSet<>();
    for (Cluster c : now) {
      if (!old.contains(c) && c.getType() == Cluster.DiscoveryType.EDS) {
        out.add(c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName());
      }
    }
    return out;
  }

  /**
   * Adds to {@code next} the clusters the group was served before but {@code next} drops, each for
   * {@link #RETIRE_NANOS}, and schedules their removal.
   */
  private ProxyResources withRetired(String key, Group g, @Nullable ProxyResources previous, ProxyResources next) {
    long now = System.nanoTime();
    Set<String> names = interner.derivedOf("names", next.clusters(), l -> clusterNames(next.clusters()));
    ProxyResources served = g.resources;
    // The same (interned) cluster list as before drops nothing: no need to look.
    if (previous != null && served != null && previous.clusters() != next.clusters()) {
      Map<String, ClusterLoadAssignment> cla = null;
      for (Cluster c : previous.clusters()) {
        if (!names.contains(c.getName()) && !g.retired.containsKey(c.getName())) {
          if (cla == null) {
            cla = new HashMap<>();
            for (ClusterLoadAssignment a : served.endpoints()) {
              cla.put(a.getClusterName(), a);
            }
          }
          g.retired.put(c.getName(), new Retired(c, cla.get(c.getEdsClusterConfig().getServiceName()), now + RETIRE_NANOS));
        }
      }
    }
    g.retired.keySet().removeAll(names);
    g.retired.values().removeIf(x -> x.untilNanos() <= now);
    if (g.retired.isEmpty()) {
      return next;
    }
    List<Cluster> clusters = new ArrayList<>(next.clusters());
    List<ClusterLoadAssignment> cla = new ArrayList<>(next.endpoints());
    Set<String> claNames = new HashSet<>();
    next.endpoints().forEach(c -> claNames.add(c.getClusterName()));
    long first = Long.MAX_VALUE;
    for (Retired x : g.retired.values()) {
      clusters.add(x.cluster());
      if (x.endpoints() != null && claNames.add(x.endpoints().getClusterName())) {
        cla.add(x.endpoints());
      }
      first = Math.min(first, x.untilNanos());
    }
    clusters.sort((a, b) -> a.getName().compareTo(b.getName()));
    cla.sort((a, b) -> a.getClusterName().compareTo(b.getClusterName()));
    try {
      pushThread.schedule(() -> expire(key), Math.max(0, first - now) + 1_000_000, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // closing
    }
    return new ProxyResources(clusters, cla, next.listeners(), next.routes());
  }

  /** Drops retired clusters whose time is up and re-serves the group. */
  private void expire(String key) {
    Group g = groups.get(key);
    if (g == null || g.base == null || g.retired.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    if (!g.retired.values().removeIf(x -> x.untilNanos() <= now)) {
      return;
    }
    ProxyResources r = withRetired(key, g, null, g.base);
    ProxyResources old = requireNonNull(g.resources, "resources");
    String v = String.valueOf(versions.incrementAndGet());
    if (!old.clusters().equals(r.clusters())) {
      g.clusterVersion = v;
    }
    boolean edsAll = false;
    if (!old.endpoints().equals(r.endpoints())) {
      g.endpointVersion = v;
      edsChanged(g, v, null);
      edsAll = true;
    }
    g.resources = r;
    publish(key, g, edsAll ? null : Set.of(), Set.of());
  }

  /**
   * Serves the group's resources: the snapshot for the cache (CDS, LDS, RDS and delta clients),
   * then EDS for state-of-the-world clients, queued after the cache's responses on each stream.
   * {@code edsNames}: the assignments that changed (null: any may have).
   */
  private void publish(String key, Group g, @Nullable Set<String> edsNames, Set<String> edsForced) {
    ProxyResources r = requireNonNull(g.resources, "resources");
    List<Secret> secrets = secretsOf(g.identity);
    if (!secrets.equals(g.secrets)) {
      g.secrets = secrets;
      g.secretVersion = String.valueOf(versions.incrementAndGet());
    }
    if (g.sds == null || !g.sdsBuilt.equals(g.secretVersion)) {
      g.sds = SnapshotResources.create(interner.versioned(g.secrets), "");
      g.sdsBuilt = g.secretVersion;
    }
    if (g.cds == null || !g.cdsBuilt.equals(g.clusterVersion)) {
      g.cds = snapshotMap(r.clusters());
      g.cdsBuilt = g.clusterVersion;
    }
    if (g.eds == null || !g.edsBuilt.equals(g.endpointVersion)) {
      g.eds = snapshotMap(r.endpoints());
      g.edsBuilt = g.endpointVersion;
    }
    if (g.lds == null || !g.ldsBuilt.equals(g.listenerVersion)) {
      g.lds = snapshotMap(r.listeners());
      g.ldsBuilt = g.listenerVersion;
    }
    if (g.rds == null || !g.rdsBuilt.equals(g.routeVersion)) {
      g.rds = snapshotMap(r.routes());
      g.rdsBuilt = g.routeVersion;
    }
    cache.setSnapshot(key, new XdsSnapshot(g.cds, g.clusterVersion, g.eds, g.endpointVersion, g.lds, g.listenerVersion,
        g.rds, g.routeVersion, g.edsHistory, g.sds, g.secretVersion));
    ads.publishEds(key, new AdsService.EdsView(g.endpointVersion, g.eds.resources()), edsNames, edsForced);
  }

  /**
   * The identity a proxy's certificate is for: the one service account of the instances at its IP.
   * None when it has no instances or their accounts are unknown; none (logged) when they run as
   * several accounts, since one proxy serves one identity.
   */
  private @Nullable String identity(ProxyNode node, List<ServiceInstance> sources) {
    if (security.secrets() == null) {
      return null;
    }
    Set<String> accounts = new TreeSet<>();
    for (ServiceInstance i : sources) {
      if (i.serviceAccount() != null && !i.serviceAccount().isEmpty()) {
        accounts.add(i.serviceAccount());
      }
    }
    if (accounts.size() > 1) {
      if (ambiguousIdentity.add(node.nodeId())) {
        log.warn("{}: the instances at {} run as several service accounts {}; no workload certificate is served",
            node.nodeId(), node.ip(), accounts);
      }
      return null;
    }
    return accounts.isEmpty() ? null : accounts.iterator().next();
  }

  /** The SDS secrets of an identity now: empty while its certificate is not there. */
  private List<Secret> secretsOf(@Nullable String identity) {
    SecretSource source = security.secrets();
    if (identity == null || source == null) {
      return List.of();
    }
    WorkloadCertificate cert = source.certificate(identity);
    if (cert == null) {
      return List.of();
    }
    // Proxies of one identity share the secret instances (and their serialization).
    List<Secret> cached = secretCache.get(identity);
    if (cached != null && secretCacheKey.get(identity) == cert) {
      return cached;
    }
    List<Secret> secrets = List.of(
        Secret.newBuilder().setName(MeshSecurity.WORKLOAD_SECRET).setTlsCertificate(TlsCertificate.newBuilder()
            .setCertificateChain(DataSource.newBuilder().setInlineString(cert.certChainPem()))
            .setPrivateKey(DataSource.newBuilder().setInlineString(cert.privateKeyPem()))).build(),
        Secret.newBuilder().setName(MeshSecurity.ROOT_SECRET).setValidationContext(CertificateValidationContext.newBuilder()
            .setTrustedCa(DataSource.newBuilder().setInlineString(cert.rootCertPem()))).build());
    secretCache.put(identity, secrets);
    secretCacheKey.put(identity, cert);
    return secrets;
  }

  /** A certificate was issued or renewed: re-serve the secrets of every group whose secrets changed. */
  private void secretPush() {
    for (Map.Entry<String, Group> e : groups.entrySet()) {
      Group g = e.getValue();
      if (g.identity == null || g.resources == null) {
        continue;
      }
      if (!secretsOf(g.identity).equals(g.secrets)) {
        publish(e.getKey(), g, Set.of(), Set.of());
      }
    }
  }

  /** Records a new endpoint version of a group and the names it changed (null: any). */
  private static void edsChanged(Group g, String version, @Nullable Set<String> names) {
    List<XdsSnapshot.EdsChange> h = new ArrayList<>(Math.min(g.edsHistory.size() + 1, XdsSnapshot.EDS_HISTORY));
    h.add(new XdsSnapshot.EdsChange(version, names));
    for (int i = 0; i < g.edsHistory.size() && h.size() < XdsSnapshot.EDS_HISTORY; i++) {
      h.add(g.edsHistory.get(i));
    }
    g.edsHistory = List.copyOf(h);
  }

  /**
   * The snapshot map of a resource list, shared by every group served the same list instance in
   * this push. (Its own version is unused: {@link XdsSnapshot} carries each group's versions.)
   */
  @SuppressWarnings("unchecked")
  private <T extends Message> SnapshotResources<T> snapshotMap(List<T> list) {
    SnapshotResources<?> m = snapshotMaps.get(list);
    if (m == null) {
      m = SnapshotResources.create(interner.versioned(list), "");
      snapshotMaps.put(list, m);
    }
    return (SnapshotResources<T>) m;
  }

  /** Drops resources that break Envoy's proto constraints (logged with the violated rule). */
  private ProxyResources dropInvalid(ProxyNode node, ProxyResources r) {
    List<Cluster> clusters = keepValid(node, r.clusters());
    List<ClusterLoadAssignment> cla = keepValid(node, r.endpoints());
    List<Listener> listeners = keepValid(node, r.listeners());
    List<RouteConfiguration> routes = keepValid(node, r.routes());
    if (clusters.size() == r.clusters().size() && cla.size() == r.endpoints().size()
        && listeners.size() == r.listeners().size() && routes.size() == r.routes().size()) {
      return r;
    }
    return new ProxyResources(clusters, cla, listeners, routes);
  }

  private <T extends Message> List<T> keepValid(ProxyNode node, List<T> in) {
    // Groups of one view share their (interned, immutable) lists: each list is checked once.
    return interner.derivedOf("valid", in, l -> keepValidElements(node, in));
  }

  private <T extends Message> List<T> keepValidElements(ProxyNode node, List<T> in) {
    List<T> out = null;
    for (int i = 0; i < in.size(); i++) {
      T m = in.get(i);
      Boolean ok = validated.get(m);
      if (ok == null) {
        List<String> v = ResourceValidator.validate(m, cleanVirtualHosts);
        ok = v.isEmpty();
        validated.put(m, ok);
        if (!ok) {
          stats.invalid(1);
          log.error("generated resource for {} breaks Envoy's constraints and is not served: {}", node.nodeId(), v);
        }
      }
      if (!ok && out == null) {
        out = new ArrayList<>(in.subList(0, i));
      } else if (ok && out != null) {
        out.add(m);
      }
    }
    return out == null ? in : out;
  }

  /**
   * What the resources name but do not contain: EDS service names without an endpoint set, routes
   * (of filter chains and of api_listeners, which the control plane's own check skips) without a
   * route configuration, clusters named by routes or TCP proxies without a cluster. Serving such a
   * snapshot would leave clients waiting on, or failing over, a name that never comes.
   */
  static List<String> consistency(ProxyResources r) {
    return consistency(r, new Interner());
  }

  /** What a listener or route configuration names: clusters, and route configurations (prefixed "rds:"). */
  private static Set<String> references(Message m) {
    Set<String> out = new HashSet<>();
    if (m instanceof RouteConfiguration rc) {
      referencedClusters(rc, out);
      return out;
    }
    Listener l = (Listener) m;
    List<HttpConnectionManager> hcms = new ArrayList<>();
    try {
      if (l.hasApiListener()) {
        hcms.add(l.getApiListener().getApiListener().unpack(HttpConnectionManager.class));
      }
      for (FilterChain fc : l.getFilterChainsList()) {
        for (Filter f : fc.getFiltersList()) {
          if (f.getTypedConfig().is(HttpConnectionManager.class)) {
            hcms.add(f.getTypedConfig().unpack(HttpConnectionManager.class));
          } else if (f.getTypedConfig().is(TcpProxy.class)) {
            out.add(f.getTypedConfig().unpack(TcpProxy.class).getCluster());
          }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      out.add("unparsable:" + e.getMessage());
    }
    for (HttpConnectionManager h : hcms) {
      if (h.hasRds()) {
        out.add("rds:" + h.getRds().getRouteConfigName());
      }
      if (h.hasRouteConfig()) {
        referencedClusters(h.getRouteConfig(), out);
      }
    }
    return out;
  }

  /**
   * What the resources name but do not contain: EDS service names without an endpoint set, routes
   * (of filter chains and of api_listeners, which the control plane's own check skips) without a
   * route configuration, clusters named by routes or TCP proxies without a cluster. Serving such a
   * snapshot would leave clients waiting on, or failing over, a name that never comes.
   */
  private static List<String> consistency(ProxyResources r, Interner memo) {
    // Sidecars of one view share (interned) cluster, endpoint and route lists: the name sets and
    // the checks of those lists against each other are done once per list instance, not per group.
    Set<String> clusters = memo.derivedOf("names", r.clusters(), l -> clusterNames(r.clusters()));
    Set<String> routes = memo.derivedOf("names", r.routes(), l -> routeNames(r.routes()));
    List<String> missing = new ArrayList<>();
    // A cluster list checked against an endpoint list: both immutable, so the result is too.
    record EdsCheck(List<Cluster> clusters, List<ClusterLoadAssignment> endpoints) {
      @Override
      public boolean equals(Object o) {
        return o instanceof EdsCheck e && e.clusters == clusters && e.endpoints == endpoints;
      }

      @Override
      public int hashCode() {
        return System.identityHashCode(clusters) * 31 + System.identityHashCode(endpoints);
      }
    }
    Map<EdsCheck, List<String>> edsChecks = memo.perPush(EdsCheck.class, HashMap::new);
    missing.addAll(edsChecks.computeIfAbsent(new EdsCheck(r.clusters(), r.endpoints()),
        k -> missingEndpoints(r.clusters(), memo.derivedOf("names", r.endpoints(), l -> endpointNames(r.endpoints())))));
    for (Listener l : r.listeners()) {
      Set<String> refs = memo.derived(l, XdsServer::references);
      for (String ref : refs) {
        if (!(ref.startsWith("rds:") ? routes.contains(ref) : clusters.contains(ref))) {
          missing.add(ref + " of listener " + l.getName());
        }
      }
    }
    for (RouteConfiguration rc : r.routes()) {
      Set<String> refs = memo.derived(rc, XdsServer::references);
      // The last cluster name set this route configuration was found complete against.
      Map<RouteConfiguration, Set<String>> complete = memo.perPush(RouteConfiguration.class, IdentityHashMap::new);
      if (complete.get(rc) == clusters) {
        continue;
      }
      if (clusters.containsAll(refs)) {
        complete.put(rc, clusters);
        continue;
      }
      for (String ref : refs) {
        if (!clusters.contains(ref)) {
          missing.add("cluster " + ref + " of route configuration " + rc.getName());
        }
      }
    }
    return missing;
  }

  private static Set<String> clusterNames(List<Cluster> list) {
    Set<String> out = new HashSet<>();
    list.forEach(c -> out.add(c.getName()));
    return out;
  }

  private static Set<String> endpointNames(List<ClusterLoadAssignment> list) {
    Set<String> out = new HashSet<>();
    list.forEach(c -> out.add(c.getClusterName()));
    return out;
  }

  private static Set<String> routeNames(List<RouteConfiguration> list) {
    Set<String> out = new HashSet<>();
    list.forEach(c -> out.add("rds:" + c.getName()));
    return out;
  }

  private static List<String> missingEndpoints(List<Cluster> clusters, Set<String> cla) {
    List<String> missing = new ArrayList<>();
    for (Cluster c : clusters) {
      if (c.getType() == Cluster.DiscoveryType.EDS) {
        String name = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName() : c.getEdsClusterConfig().getServiceName();
        if (!cla.contains(name)) {
          missing.add("endpoints " + name + " of cluster " + c.getName());
        }
      }
    }
    return List.copyOf(missing);
  }

  private static void referencedClusters(RouteConfiguration rc, Set<String> out) {
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      for (Route route : vh.getRoutesList()) {
        if (!route.hasRoute()) {
          continue;
        }
        if (!route.getRoute().getCluster().isEmpty()) {
          out.add(route.getRoute().getCluster());
        }
        for (WeightedCluster.ClusterWeight w : route.getRoute().getWeightedClusters().getClustersList()) {
          out.add(w.getName());
        }
      }
    }
  }
}
