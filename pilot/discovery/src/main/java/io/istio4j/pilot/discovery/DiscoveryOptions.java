package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@code pilot-discovery discovery} was asked to do.
 *
 * @param address host or IP the gRPC (xDS) server listens on; empty for all interfaces
 * @param grpcPort the xDS port ({@code --grpcPort}); 0 picks a free one
 * @param monitoringAddress host or IP of the monitoring HTTP server; empty for all interfaces
 * @param monitoringPort the monitoring port ({@code --monitoringPort}); 0 picks a free one
 * @param registries the {@code --registries} entries, in priority order
 * @param configStoreUrl {@code fs://DIR} or {@code k8s://}; null for no config (every service gets its
 *     default route)
 * @param mesh domain suffix, namespace and MeshConfig
 * @param shutdownGracePeriod how long open ADS streams get to end on SIGTERM before they are cancelled
 * @param filePollInterval how often {@code file://} registries and {@code fs://} stores look for changes
 */
public record DiscoveryOptions(
    String address,
    int grpcPort,
    String monitoringAddress,
    int monitoringPort,
    List<String> registries,
    @Nullable String configStoreUrl,
    MeshSettings mesh,
    Duration shutdownGracePeriod,
    Duration filePollInterval) {

  public DiscoveryOptions {
    requireNonNull(address, "address");
    requireNonNull(monitoringAddress, "monitoringAddress");
    registries = List.copyOf(requireNonNull(registries, "registries"));
    requireNonNull(mesh, "mesh");
    requireNonNull(shutdownGracePeriod, "shutdownGracePeriod");
    checkPort(grpcPort, "--grpcPort");
    checkPort(monitoringPort, "--monitoringPort");
    if (registries.isEmpty()) {
      throw new IllegalArgumentException("--registries: empty (expected: file://DIR, kubernetes, or both joined by ',')");
    }
    requireNonNull(filePollInterval, "filePollInterval");
    if (filePollInterval.isNegative() || filePollInterval.isZero()) {
      throw new IllegalArgumentException("--filePollInterval: " + filePollInterval + " (expected: more than 0)");
    }
    if (shutdownGracePeriod.isNegative()) {
      throw new IllegalArgumentException("--shutdownGracePeriod: " + shutdownGracePeriod + " (expected: 0 or more)");
    }
  }

  /** Upstream's defaults for what is not set: files polled every second. */
  public static final Duration DEFAULT_FILE_POLL_INTERVAL = Duration.ofSeconds(1);

  private static void checkPort(int port, String flag) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(flag + ": " + port + " (expected: 0-65535)");
    }
  }
}
