package io.istio4j.pilot.registry;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * How a registry fed by a remote server (Eureka, Consul) is keeping up with it, for
 * {@code /metrics}: whether its last exchange with the server succeeded, when its view was last
 * confirmed current, and how many requests and failures there were.
 *
 * <pre>{@code
 * if (registry instanceof SyncHealth h && !h.reachable()) {
 *   log.warn("{} is serving a view {} s old", registry.name(), h.stalenessSeconds());
 * }
 * }</pre>
 */
public interface SyncHealth {
  /** True when the last exchange with the server succeeded (false before the first one). */
  boolean reachable();

  /** When the view was last confirmed current by the server, or null if never. */
  @Nullable Instant lastSuccessfulSync();

  /**
   * 0 while the server is reachable; otherwise the seconds since the view was last confirmed (or
   * since the registry started, if it never was).
   */
  double stalenessSeconds();

  /** Requests sent to the server so far. */
  long requests();

  /** Failed exchanges so far: unreachable, timed out, a non-200 status, a body too large or unreadable. */
  long syncErrors();
}
