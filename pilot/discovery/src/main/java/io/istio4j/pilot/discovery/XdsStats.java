package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time view of the xDS server's counters, read on every {@code /metrics} scrape.
 *
 * @param connectedClients ADS streams open now
 * @param pushesByType responses sent, by resource type ({@code Cluster}, {@code ClusterLoadAssignment},
 *     {@code Listener}, {@code RouteConfiguration})
 * @param pushLatencyBounds upper bounds, in seconds, of the push latency histogram's buckets (+Inf implied)
 * @param pushLatencyCounts pushes per bucket, not cumulative; one more entry than the bounds (the +Inf bucket)
 * @param pushSecondsSum total seconds of every push counted in the histogram
 * @param nacksByType NACKs received, by resource type
 * @param ingressRulesNotServed ingress rules the last push could not serve (unknown service or port, a
 *     missing or invalid TLS secret, a path another rule already routes)
 */
public record XdsStats(
    int connectedClients,
    Map<String, Long> pushesByType,
    List<Double> pushLatencyBounds,
    List<Long> pushLatencyCounts,
    double pushSecondsSum,
    Map<String, Long> nacksByType,
    long ingressRulesNotServed) {

  /** Nothing connected, nothing pushed. */
  public static final XdsStats EMPTY = new XdsStats(0, Map.of(), List.of(), List.of(0L), 0, Map.of());

  /** Without ingress figures. */
  public XdsStats(int connectedClients, Map<String, Long> pushesByType, List<Double> pushLatencyBounds,
      List<Long> pushLatencyCounts, double pushSecondsSum, Map<String, Long> nacksByType) {
    this(connectedClients, pushesByType, pushLatencyBounds, pushLatencyCounts, pushSecondsSum, nacksByType, 0);
  }

  public XdsStats {
    pushesByType = Map.copyOf(requireNonNull(pushesByType, "pushesByType"));
    pushLatencyBounds = List.copyOf(requireNonNull(pushLatencyBounds, "pushLatencyBounds"));
    pushLatencyCounts = List.copyOf(requireNonNull(pushLatencyCounts, "pushLatencyCounts"));
    nacksByType = Map.copyOf(requireNonNull(nacksByType, "nacksByType"));
    if (pushLatencyCounts.size() != pushLatencyBounds.size() + 1) {
      throw new IllegalArgumentException("pushLatencyCounts: " + pushLatencyCounts.size() + " buckets (expected: "
          + (pushLatencyBounds.size() + 1) + ", one per bound plus +Inf)");
    }
  }

  /** Pushes counted in the histogram. */
  public long pushCount() {
    long n = 0;
    for (long c : pushLatencyCounts) {
      n += c;
    }
    return n;
  }
}
