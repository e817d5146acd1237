package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.ProvisionException;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.istio4j.http.ListenAddress;
import io.istio4j.mixer.attribute.DecodeLimits;
import io.istio4j.mixer.runtime.ConfigStatusJson;
import io.istio4j.mixer.runtime.MixerRuntime;
import io.istio4j.mixer.runtime.Readiness;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Mixer: the gRPC API (Mixer service, gRPC health, reflection) and the monitoring HTTP
 * server. Ready only once config is loaded and the API serves.
 *
 * <pre>{@code
 * try (MixerServer server = MixerServer.start(ServerOptions.ephemeral())) {
 *   int port = server.port();
 * }
 * }</pre>
 */
public final class MixerServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MixerServer.class);

  /** How often {@code fs://} config is checked for edits; they apply within a second. */
  static final Duration CONFIG_POLL_INTERVAL = Duration.ofMillis(250);

  /** The gRPC listener and its flag, as errors name them. */
  private static final String GRPC_PORT = "gRPC --port";

  private final ServerOptions options;
  private final Server grpc;
  private final MonitoringServer monitoring;
  private final HealthStatusManager health;
  private final AtomicBoolean ready;
  private final MixerRuntime runtime;
  private final MixerGrpcService service;
  private final Supplier<Readiness> readiness;
  private final StreamIdleTimeout idle;
  private final MixerTracing tracing;

  private MixerServer(ServerOptions options, Server grpc, MixerGrpcService service, StreamIdleTimeout idle,
      MonitoringServer monitoring, HealthStatusManager health, AtomicBoolean ready, MixerRuntime runtime,
      Supplier<Readiness> readiness, MixerTracing tracing) {
    this.tracing = tracing;
    this.readiness = readiness;
    this.idle = idle;
    this.runtime = runtime;
    this.service = service;
    this.options = options;
    this.grpc = grpc;
    this.monitoring = monitoring;
    this.health = health;
    this.ready = ready;
  }

  /**
   * Starts a Mixer with the adapters and templates on the class path; the first config snapshot is
   * live before the API serves. Throws {@link IllegalArgumentException} for bad options or config
   * location, and {@link ConfigRejectedException} when {@code --configStrict} finds rejected objects
   * in the first config. Warns when no config store is set: then every request is allowed.
   */
  public static MixerServer start(ServerOptions options) throws IOException {
    return start(options, TracingOptions.DISABLED);
  }

  /**
   * As {@link #start(ServerOptions)}, tracing calls to Zipkin as {@code tracingOptions} say
   * ({@code --zipkinURL}, {@code --traceSampleRate}).
   */
  public static MixerServer start(ServerOptions options, TracingOptions tracingOptions) throws IOException {
    requireNonNull(options, "options");
    requireNonNull(tracingOptions, "tracingOptions");
    // Parsed once, before anything starts: a bad location is a clear IllegalArgumentException.
    ConfigStoreLocation location = options.configStoreUrl() == null
        ? null : ConfigStoreLocation.parse(options.configStoreUrl());
    Injector injector;
    try {
      injector = Guice.createInjector(new MixerModule(options, location, tracingOptions));
    } catch (CreationException | ProvisionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalStateException("cannot assemble Mixer: " + cause.getMessage(), cause);
    }
    if (location == null) {
      log.warn("no config store is set (--configStoreURL): no rule applies and every request is allowed; "
          + "pass --configStoreURL fs://DIR to load config");
    }
    MixerRuntime runtime = injector.getInstance(MixerRuntime.class);
    try {
      runtime.start(injector.getInstance(ConfigStore.class));
      if (!runtime.ready()) { // --configStrict and the first config has rejected objects
        throw new ConfigRejectedException(runtime.refused());
      }
      return start(options, location, runtime, injector.getInstance(ServerMetrics.class), runtime,
          injector.getInstance(MixerTracing.class));
    } catch (IOException | RuntimeException e) {
      runtime.close();
      injector.getInstance(MixerTracing.class).close();
      throw e;
    }
  }

  static MixerServer start(ServerOptions options, RequestProcessor processor) throws IOException {
    return start(options, TracingOptions.DISABLED, processor);
  }

  static MixerServer start(ServerOptions options, TracingOptions tracingOptions, RequestProcessor processor)
      throws IOException {
    ConfigStoreLocation location = options.configStoreUrl() == null
        ? null : ConfigStoreLocation.parse(options.configStoreUrl());
    ServerMetrics metrics = new ServerMetrics();
    return start(options, location, processor, metrics, null, MixerTracing.create(tracingOptions, metrics.registry()));
  }

  private static MixerServer start(ServerOptions options, ConfigStoreLocation store, RequestProcessor processor,
      ServerMetrics metrics, MixerRuntime runtime, MixerTracing tracing) throws IOException {
    requireNonNull(options, "options");

    HealthStatusManager health = new HealthStatusManager();
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.NOT_SERVING);
    health.setStatus(MixerGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
    MixerGrpcService service = new MixerGrpcService(processor, DecodeLimits.DEFAULT, metrics);
    StreamIdleTimeout idle = new StreamIdleTimeout(options.streamIdleTimeout());

    InetSocketAddress grpcAddress = ListenAddress.resolve(options.address(), options.port(), GRPC_PORT);
    Server grpc = NettyServerBuilder.forAddress(grpcAddress)
        .maxInboundMessageSize(options.maxMessageSize())
        .maxInboundMetadataSize(64 * 1024)
        .maxConcurrentCallsPerConnection(options.maxConcurrentStreams())
        // Check and Report decode and answer in microseconds without blocking: running them on the
        // transport threads saves a thread hop per call (docs/RATIONALE.md).
        .directExecutor()
        .addService(tracing.enabled()
            // Without --zipkinURL there is no interceptor at all: untraced calls pay nothing.
            ? ServerInterceptors.intercept(service.bind(), idle, tracing.interceptor())
            : ServerInterceptors.intercept(service.bind(), idle))
        .addService(ServerInterceptors.intercept(health.getHealthService(), idle))
        .addService(ProtoReflectionServiceV1.newInstance())
        .addStreamTracerFactory(metrics)
        .build();
    metrics.register(grpc.getServices());

    AtomicBoolean ready = new AtomicBoolean();
    Supplier<Readiness> readiness = () -> readiness(ready.get(), store, runtime);
    MonitoringServer monitoring = new MonitoringServer(options.monitoringAddress(), options.monitoringPort(),
        metrics.registry(), readiness,
        () -> runtime == null ? "{\"ready\": " + ready.get() + ", \"objects\": []}\n"
            : ConfigStatusJson.render(runtime.snapshot(), readiness.get(), runtime.refused()));
    MixerServer server = new MixerServer(options, grpc, service, idle, monitoring, health, ready, runtime,
        readiness, tracing);
    try {
      monitoring.start();
      try {
        grpc.start();
      } catch (IOException e) {
        throw ListenAddress.cannotListen(grpcAddress, GRPC_PORT, e);
      }
    } catch (IOException e) {
      monitoring.close();
      service.close();
      idle.close();
      if (runtime != null) {
        runtime.close();
      }
      tracing.close();
      throw e;
    }

    if (store != null) {
      log.info("config store {}: {}, snapshot {} live", options.configStoreUrl(),
          store.describe(), runtime == null ? "-" : runtime.snapshot().version());
    }
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
    health.setStatus(MixerGrpc.SERVICE_NAME, ServingStatus.SERVING);
    ready.set(true);
    log.info("mixs {} serving gRPC on {}, monitoring on {} (default namespace {})", BuildInfo.version(),
        ListenAddress.describe(server.address()), ListenAddress.describe(server.monitoringAddress()),
        options.configDefaultNamespace());
    return server;
  }

  /**
   * Ready once the API serves and the runtime's config is live; the reason says what is live, or
   * what is missing ({@code /readyz} prints it).
   */
  private static Readiness readiness(boolean serving, ConfigStoreLocation store, MixerRuntime runtime) {
    if (!serving) {
      return Readiness.notReady(runtime != null && runtime.readiness().reason().equals("shutting down")
          ? "shutting down" : "the gRPC API is not serving (starting or shutting down)");
    }
    if (runtime == null) {
      return Readiness.ready("serving");
    }
    Readiness r = runtime.readiness();
    if (r.ready() && store == null) {
      return Readiness.ready("no config store is set (--configStoreURL): every request is allowed");
    }
    return r;
  }

  /** Whether the server should get traffic, and why; what {@code /readyz} answers. */
  public Readiness readiness() {
    return readiness.get();
  }

  /** The gRPC port in use. */
  public int port() {
    return grpc.getPort();
  }

  /** The monitoring HTTP port in use. */
  public int monitoringPort() {
    return monitoring.port();
  }

  /** The address the gRPC API listens on. */
  public InetSocketAddress address() {
    return (InetSocketAddress) grpc.getListenSockets().get(0);
  }

  /** The address the monitoring HTTP server listens on. */
  public InetSocketAddress monitoringAddress() {
    return monitoring.address();
  }

  /** True once config is loaded and the API serves; false again while shutting down. */
  public boolean isReady() {
    return ready.get();
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /**
   * Stops taking new calls, lets in-flight calls finish within the grace period, then stops.
   * Returns true if every in-flight call finished in time.
   */
  public boolean shutdownGracefully() throws InterruptedException {
    ready.set(false);
    health.enterTerminalState();
    grpc.shutdown();
    boolean clean = grpc.awaitTermination(options.shutdownGracePeriod().toMillis(), TimeUnit.MILLISECONDS);
    if (!clean) {
      log.warn("calls still running after {}; cancelling them", options.shutdownGracePeriod());
      grpc.shutdownNow();
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    }
    monitoring.close();
    service.close();
    idle.close();
    if (runtime != null) {
      runtime.close();
    }
    tracing.close(); // last: handlers' spans are sent, within the reporter's close timeout
    return clean;
  }

  @Override
  public void close() throws InterruptedException {
    shutdownGracefully();
  }
}
