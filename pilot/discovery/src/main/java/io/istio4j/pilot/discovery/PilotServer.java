package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.istio4j.http.ListenAddress;
import io.istio4j.pilot.model.ConfigStoreCache;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Pilot: registries and the config store feeding the xDS server, which serves ADS on the
 * gRPC port, and the monitoring HTTP server. The monitoring port opens first, so {@code /readyz} says
 * what Pilot is waiting for while registries and config load; the xDS server starts answering only
 * once all of them have synced (the 0.2 lesson: never serve a partial view).
 *
 * <pre>{@code
 * try (PilotServer pilot = PilotServer.start(options, PilotComponents.standard())) {
 *   pilot.awaitReady(Duration.ofSeconds(30));
 * }
 * }</pre>
 */
public final class PilotServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PilotServer.class);

  /** How often the sync watcher looks at the registries and the store until all have synced. */
  private static final long SYNC_POLL_MILLIS = 20;

  private static final String GRPC_PORT = "gRPC --grpcPort";

  private final DiscoveryOptions options;
  private final List<ServiceRegistry> registries;
  private final ConfigStoreCache store;
  private final String storeName;
  private final XdsEndpoint xds;
  private final Server grpc;
  private final HealthStatusManager health;
  private final MonitoringServer monitoring;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Thread syncWatcher;
  private volatile boolean started;
  private volatile @Nullable String serveFailure;

  private PilotServer(DiscoveryOptions options, List<ServiceRegistry> registries, ConfigStoreCache store,
      String storeName, XdsEndpoint xds, Server grpc, HealthStatusManager health, MonitoringServer monitoring) {
    this.options = options;
    this.registries = registries;
    this.store = store;
    this.storeName = storeName;
    this.xds = xds;
    this.grpc = grpc;
    this.health = health;
    this.monitoring = monitoring;
    this.syncWatcher = new Thread(this::awaitSyncThenServe, "pilot-sync-watcher");
    this.syncWatcher.setDaemon(true);
  }

  /**
   * Opens the registries and the config store, binds the gRPC and monitoring ports, and starts
   * watching; returns at once, before anything has synced ({@link #readiness} says when Pilot serves).
   *
   * @throws IllegalArgumentException for a registry or store this build does not know, or a bad address
   * @throws IOException naming the address and flag when a port cannot be bound
   */
  public static PilotServer start(DiscoveryOptions options, PilotComponents components) throws IOException {
    requireNonNull(options, "options");
    requireNonNull(components, "components");
    List<AutoCloseable> opened = new ArrayList<>();
    try {
      List<ServiceRegistry> registries = new ArrayList<>();
      for (String spec : options.registries()) {
        ServiceRegistry r = components.registries().open(spec.strip(), options);
        opened.add(r);
        registries.add(r);
      }
      ConfigStoreCache store;
      String storeName;
      if (options.configStoreUrl() == null) {
        log.warn("no config store is set (--configStoreURL): no route rule or destination policy applies; "
            + "pass --configStoreURL fs://DIR to load config");
        store = new MemoryConfigStore();
        storeName = "none (--configStoreURL not set)";
      } else {
        store = components.configStores().open(options.configStoreUrl(), options);
        storeName = options.configStoreUrl();
      }
      opened.add(store);
      ServiceDiscovery discovery = components.aggregator().aggregate(List.copyOf(registries));
      XdsEndpoint xds = components.xds().create(discovery, store, options.mesh());
      opened.add(xds);

      HealthStatusManager health = new HealthStatusManager();
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
      InetSocketAddress grpcAddress = ListenAddress.resolve(options.address(), options.grpcPort(), GRPC_PORT);
      NettyServerBuilder builder = NettyServerBuilder.forAddress(grpcAddress)
          // NACKs carry error details and a big mesh's requests name many resources.
          .maxInboundMessageSize(16 * 1024 * 1024)
          // Envoy and gRPC clients keep ADS streams open for hours and ping them.
          .permitKeepAliveTime(10, TimeUnit.SECONDS)
          .permitKeepAliveWithoutCalls(true)
          .addService(health.getHealthService());
      for (ServerServiceDefinition s : xds.services()) {
        builder.addService(s);
      }
      Server grpc = builder.build();

      List<ServiceRegistry> regs = List.copyOf(registries);
      PilotServer[] self = new PilotServer[1];
      PilotMetrics metrics = new PilotMetrics(xds::stats, () -> regs, () -> components.configStatus().read(store),
          () -> self[0] == null ? Readiness.notReady("starting") : self[0].readiness());
      DebugPages pages = new DebugPages(() -> regs, components.registryView(), () -> components.configStatus().read(store), () -> storeName,
          xds::clientsJson, () -> self[0] == null ? Readiness.notReady("starting") : self[0].readiness())
          .withCertificates(xds::certificates);
      if (xds.certificates() != null) {
        metrics.registerCertificates(xds::certificates);
      }
      MonitoringServer monitoring = new MonitoringServer(options.monitoringAddress(), options.monitoringPort(),
          metrics.registry(), () -> self[0] == null ? Readiness.notReady("starting") : self[0].readiness(), pages);
      PilotServer server = new PilotServer(options, regs, store, storeName, xds, grpc, health, monitoring);
      self[0] = server;

      for (ServiceRegistry r : regs) {
        r.addListener(e -> {
          metrics.registryEvent(e);
          xds.onRegistryEvent(e);
        });
      }
      store.addListener(e -> {
        metrics.configEvent(e);
        xds.onConfigEvent(e);
      });

      monitoring.start();
      opened.add(monitoring);
      try {
        grpc.start();
      } catch (IOException e) {
        throw ListenAddress.cannotListen(grpcAddress, GRPC_PORT, e);
      }
      opened.add(grpc::shutdownNow);
      for (ServiceRegistry r : regs) {
        r.start();
      }
      store.start();
      server.started = true;
      server.syncWatcher.start();
      log.info("pilot-discovery {} listening: xDS (gRPC) on {}, monitoring on {}; registries {}, config {}, domain {}",
          BuildInfo.version(), ListenAddress.describe(server.address()),
          ListenAddress.describe(monitoring.address()), names(regs), storeName, options.mesh().domain());
      return server;
    } catch (IOException | RuntimeException e) {
      for (int i = opened.size() - 1; i >= 0; i--) {
        closeQuietly(opened.get(i));
      }
      throw e;
    }
  }

  private void awaitSyncThenServe() {
    try {
      while (!closing.get()) {
        if (unsynced() == null) {
          xds.startServing();
          health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
          log.info("registries and config synced: serving xDS ({} service(s), {} config object(s))",
              serviceCount(), configObjectCount());
          return;
        }
        Thread.sleep(SYNC_POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      serveFailure = "cannot start serving xDS: " + e;
      log.error("{}", serveFailure, e);
    }
  }

  /** What has not synced yet, or null when everything has. */
  private @Nullable String unsynced() {
    List<String> waiting = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      if (!r.hasSynced()) {
        waiting.add("registry " + r.name());
      }
    }
    if (!store.hasSynced()) {
      waiting.add("config store " + storeName);
    }
    return waiting.isEmpty() ? null : "waiting for " + String.join(", ", waiting) + " to sync";
  }

  /**
   * Ready once every registry and the config store have synced and the xDS server serves; the reason
   * names what is missing ({@code /readyz} prints it).
   */
  public Readiness readiness() {
    if (closing.get()) {
      return Readiness.notReady("shutting down");
    }
    if (!started) {
      return Readiness.notReady("starting");
    }
    String waiting = unsynced();
    if (waiting != null) {
      return Readiness.notReady(waiting);
    }
    String failure = serveFailure;
    if (failure != null) {
      return Readiness.notReady(failure);
    }
    if (!xds.serving()) {
      return Readiness.notReady("registries and config synced; the xDS server is building its first snapshot");
    }
    return Readiness.ready("serving xDS: " + registries.size() + " registr" + (registries.size() == 1 ? "y" : "ies")
        + " (" + serviceCount() + " service(s)), config store " + storeName);
  }

  /**
   * Blocks until ready or the timeout passes.
   *
   * @return true when ready
   */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!readiness().ready()) {
      if (System.nanoTime() > deadline || closing.get()) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  private int serviceCount() {
    int n = 0;
    for (ServiceRegistry r : registries) {
      n += r.services().size();
    }
    return n;
  }

  private int configObjectCount() {
    return PilotComponents.listedAsAccepted(store).size();
  }

  /** The gRPC (xDS) port in use. */
  public int grpcPort() {
    return grpc.getPort();
  }

  /** The monitoring HTTP port in use. */
  public int monitoringPort() {
    return monitoring.port();
  }

  /** The address the gRPC (xDS) server listens on. */
  public InetSocketAddress address() {
    return (InetSocketAddress) grpc.getListenSockets().get(0);
  }

  /** The address the monitoring HTTP server listens on. */
  public InetSocketAddress monitoringAddress() {
    return monitoring.address();
  }

  /** The registries, in {@code --registries} order. */
  public List<ServiceRegistry> registries() {
    return registries;
  }

  /** The config store. */
  public ConfigStoreCache configStore() {
    return store;
  }

  /**
   * Stops: {@code /readyz} turns 503, the gRPC server takes no new connection or stream (clients get
   * GOAWAY), open ADS streams get the grace period to end, then are cancelled (clients reconnect to
   * another Pilot); then the xDS server, the registries and the store close. Returns true when every
   * stream ended within the grace period. Safe to call twice.
   */
  public boolean shutdownGracefully() throws InterruptedException {
    if (!closing.compareAndSet(false, true)) {
      grpc.awaitTermination();
      return true;
    }
    syncWatcher.interrupt();
    health.enterTerminalState();
    grpc.shutdown();
    boolean clean = grpc.awaitTermination(options.shutdownGracePeriod().toMillis(), TimeUnit.MILLISECONDS);
    if (!clean) {
      log.info("ADS streams still open after the grace period ({}): cancelling them", options.shutdownGracePeriod());
      grpc.shutdownNow();
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    }
    closeQuietly(xds);
    for (ServiceRegistry r : registries) {
      closeQuietly(r);
    }
    closeQuietly(store);
    monitoring.close();
    return clean;
  }

  @Override
  public void close() throws InterruptedException {
    shutdownGracefully();
  }

  private static String names(List<ServiceRegistry> registries) {
    List<String> names = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      names.add(r.name());
    }
    return String.join(", ", names);
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("error while closing {}: {}", c, e.toString());
    }
  }
}
