package io.istio4j.mixer.server;

import io.istio4j.mixer.runtime.RuntimeOptions;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * What {@code mixs server} was asked to do; flags are named as upstream's.
 *
 * @param port gRPC API port (upstream default 9091; 0 picks a free port)
 * @param monitoringPort self-monitoring HTTP port (upstream default 9093; 0 picks a free port)
 * @param configStoreUrl where config lives ({@code fs://DIR}), or null for none
 * @param configDefaultNamespace the namespace whose rules apply to every request
 * @param maxMessageSize largest request accepted, in bytes
 * @param maxConcurrentStreams concurrent calls allowed per client connection
 * @param shutdownGracePeriod how long in-flight calls may take to finish on SIGTERM
 * @param streamIdleTimeout how long a call may wait for its request after its headers
 * @param runtime how rules are resolved and handlers called; its default namespace is
 *     {@code configDefaultNamespace}
 * @param address host or IP address the gRPC API listens on; empty for all interfaces
 *     ({@code --address})
 * @param monitoringAddress host or IP address the monitoring HTTP server listens on; empty for all
 *     interfaces ({@code --monitoringAddress})
 */
public record ServerOptions(
    int port,
    int monitoringPort,
    @Nullable String configStoreUrl,
    String configDefaultNamespace,
    int maxMessageSize,
    int maxConcurrentStreams,
    Duration shutdownGracePeriod,
    Duration streamIdleTimeout,
    RuntimeOptions runtime,
    String address,
    String monitoringAddress) {

  /** Options listening on all interfaces. */
  public ServerOptions(int port, int monitoringPort, String configStoreUrl, String configDefaultNamespace,
      int maxMessageSize, int maxConcurrentStreams, Duration shutdownGracePeriod, Duration streamIdleTimeout,
      RuntimeOptions runtime) {
    this(port, monitoringPort, configStoreUrl, configDefaultNamespace, maxMessageSize, maxConcurrentStreams,
        shutdownGracePeriod, streamIdleTimeout, runtime, "", "");
  }

  /** {@code --streamIdleTimeout}'s default. */
  public static final Duration DEFAULT_STREAM_IDLE_TIMEOUT = Duration.ofSeconds(10);

  /** Options with the runtime's defaults. */
  public ServerOptions(int port, int monitoringPort, String configStoreUrl, String configDefaultNamespace,
      int maxMessageSize, int maxConcurrentStreams, Duration shutdownGracePeriod) {
    this(port, monitoringPort, configStoreUrl, configDefaultNamespace, maxMessageSize, maxConcurrentStreams,
        shutdownGracePeriod, DEFAULT_STREAM_IDLE_TIMEOUT, RuntimeOptions.DEFAULTS);
  }

  /** Checks the options; the runtime's default namespace becomes {@code configDefaultNamespace}. */
  public ServerOptions {
    checkPort("port", port);
    checkPort("monitoringPort", monitoringPort);
    if (maxMessageSize < 1) {
      throw new IllegalArgumentException("maxMessageSize: " + maxMessageSize + " (expected: > 0)");
    }
    if (maxConcurrentStreams < 1) {
      throw new IllegalArgumentException(
          "maxConcurrentStreams: " + maxConcurrentStreams + " (expected: > 0)");
    }
    if (streamIdleTimeout == null || streamIdleTimeout.isNegative() || streamIdleTimeout.isZero()) {
      throw new IllegalArgumentException("streamIdleTimeout: " + streamIdleTimeout + " (expected: > 0)");
    }
    if (configDefaultNamespace == null || !configDefaultNamespace.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
      throw new IllegalArgumentException("configDefaultNamespace: " + configDefaultNamespace
          + " (expected: a DNS label such as istio-system)");
    }
    runtime = runtime == null ? RuntimeOptions.DEFAULTS.withDefaultNamespace(configDefaultNamespace)
        : runtime.withDefaultNamespace(configDefaultNamespace);
    address = address == null ? "" : address.strip();
    monitoringAddress = monitoringAddress == null ? "" : monitoringAddress.strip();
  }

  /** A copy with {@code configStoreUrl}. */
  public ServerOptions withConfigStoreUrl(String url) {
    return new ServerOptions(port, monitoringPort, url, configDefaultNamespace, maxMessageSize,
        maxConcurrentStreams, shutdownGracePeriod, streamIdleTimeout, runtime, address, monitoringAddress);
  }

  /** A copy whose gRPC API listens on {@code host} (empty for all interfaces) and {@code port}. */
  public ServerOptions withAddress(String host, int port) {
    return new ServerOptions(port, monitoringPort, configStoreUrl, configDefaultNamespace, maxMessageSize,
        maxConcurrentStreams, shutdownGracePeriod, streamIdleTimeout, runtime, host, monitoringAddress);
  }

  /** A copy whose monitoring server listens on {@code host} (empty for all interfaces) and {@code port}. */
  public ServerOptions withMonitoringAddress(String host, int port) {
    return new ServerOptions(this.port, port, configStoreUrl, configDefaultNamespace, maxMessageSize,
        maxConcurrentStreams, shutdownGracePeriod, streamIdleTimeout, runtime, address, host);
  }

  /** Upstream's defaults, with ports chosen by the OS (for tests). */
  public static ServerOptions ephemeral() {
    return new ServerOptions(0, 0, null, "istio-system", 1024 * 1024, 1024, Duration.ofSeconds(10));
  }

  private static void checkPort(String name, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(name + ": " + port + " (expected: 0-65535)");
    }
  }
}
