package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * A point-in-time view of the xDS server's counters, read on every {@code /metrics} scrape.
 *
 * @param connectedClients ADS streams open now
 * @param pushesByType responses sent, by resource type (short names: {@code cds}, {@code eds}, {@code lds},
 *     {@code rds})
 * @param pushCount pushes completed (one per client per change), the count of {@code pushSecondsSum}
 * @param pushSecondsSum total seconds from a change's arrival to its push being sent, over {@code pushCount}
 * @param nacksByType NACKs received, by resource type
 */
public record XdsStats(
    int connectedClients,
    Map<String, Long> pushesByType,
    long pushCount,
    double pushSecondsSum,
    Map<String, Long> nacksByType) {

  /** Nothing connected, nothing pushed. */
  public static final XdsStats EMPTY = new XdsStats(0, Map.of(), 0, 0, Map.of());

  public XdsStats {
    pushesByType = Map.copyOf(requireNonNull(pushesByType, "pushesByType"));
    nacksByType = Map.copyOf(requireNonNull(nacksByType, "nacksByType"));
  }
}
