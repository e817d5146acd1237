package io.istio4j.pilot.xds;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The xDS server's counters for /metrics: connected clients, pushes (full and endpoint-only),
 * push latency (from the first change of a batch to the last snapshot set) as a histogram, NACKs by
 * type URL, resources dropped as invalid. Thread-safe; readers get a consistent-enough view.
 */
public final class XdsStats {
  /** Upper bounds of the push latency histogram buckets, in seconds (the last bucket is +Inf). */
  public static final double[] LATENCY_BUCKETS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  private final IntSupplier connected;
  private final AtomicLong fullPushes = new AtomicLong();
  private final AtomicLong edsPushes = new AtomicLong();
  private final AtomicLongArray latencyBuckets = new AtomicLongArray(LATENCY_BUCKETS.length + 1);
  private final LongAdder latencyCount = new LongAdder();
  private final AtomicLong latencySumNanos = new AtomicLong();
  private final AtomicLong lastPushNanos = new AtomicLong();
  private final AtomicLong invalidResources = new AtomicLong();
  private final AtomicLong inconsistentSnapshots = new AtomicLong();
  private final AtomicLong mtlsConfigErrors = new AtomicLong();
  private final AtomicLong ingressRulesNotServed = new AtomicLong();
  private final Map<String, LongAdder> nacks = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> responses = new ConcurrentHashMap<>();

  XdsStats(IntSupplier connected) {
    this.connected = connected;
  }

  void push(boolean full, long latencyNanos) {
    (full ? fullPushes : edsPushes).incrementAndGet();
    double seconds = latencyNanos / 1e9;
    int i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) {
      i++;
    }
    latencyBuckets.incrementAndGet(i);
    latencyCount.increment();
    latencySumNanos.addAndGet(latencyNanos);
    lastPushNanos.set(latencyNanos);
  }

  void nack(String typeUrl) {
    nacks.computeIfAbsent(shortType(typeUrl), k -> new LongAdder()).increment();
  }

  void response(String typeUrl) {
    responses.computeIfAbsent(shortType(typeUrl), k -> new LongAdder()).increment();
  }

  void invalid(int n) {
    invalidResources.addAndGet(n);
  }

  void mtlsConfigError() {
    mtlsConfigErrors.incrementAndGet();
  }

  /** Bad {@code auth.istio.io/<port>} annotations found (each counted once while it stays). */
  public long mtlsConfigErrors() {
    return mtlsConfigErrors.get();
  }

  void ingressRulesNotServed(int n) {
    ingressRulesNotServed.set(n);
  }

  void inconsistent() {
    inconsistentSnapshots.incrementAndGet();
  }

  /** Clients with an open ADS stream. */
  public int connectedClients() {
    return connected.getAsInt();
  }

  /** Full pushes done (config or service changes). */
  public long fullPushes() {
    return fullPushes.get();
  }

  /** Endpoint-only pushes done. */
  public long edsPushes() {
    return edsPushes.get();
  }

  /** Count of pushes per latency bucket; index i counts latencies <= {@link #LATENCY_BUCKETS}[i], the last +Inf. */
  public long[] pushLatencyBuckets() {
    long[] out = new long[latencyBuckets.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = latencyBuckets.get(i);
    }
    return out;
  }

  /** Number of latency observations. */
  public long pushLatencyCount() {
    return latencyCount.sum();
  }

  /** Sum of push latencies, seconds. */
  public double pushLatencySumSeconds() {
    return latencySumNanos.get() / 1e9;
  }

  /** The latest push's latency, seconds. */
  public double lastPushLatencySeconds() {
    return lastPushNanos.get() / 1e9;
  }

  /** NACKs received, by resource type (e.g. {@code Cluster}). */
  public Map<String, Long> nacksByType() {
    Map<String, Long> out = new TreeMap<>();
    nacks.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Responses sent, by resource type. */
  public Map<String, Long> responsesByType() {
    Map<String, Long> out = new TreeMap<>();
    responses.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** Generated resources dropped because they broke Envoy's proto constraints. */
  public long invalidResources() {
    return invalidResources.get();
  }

  /** Snapshots not served because a resource named another that was missing (the last good one stays). */
  public long inconsistentSnapshots() {
    return inconsistentSnapshots.get();
  }

  /**
   * Ingress rules the last full push could not serve to an ingress proxy (unknown service or port, a
   * missing or invalid TLS secret, a path another rule already routes), counted once per rule and
   * reason; each is logged at WARN once per push.
   */
  public long ingressRulesNotServed() {
    return ingressRulesNotServed.get();
  }

  /** {@code type.googleapis.com/envoy.config.cluster.v3.Cluster} is {@code Cluster}. */
  static String shortType(String typeUrl) {
    int dot = typeUrl.lastIndexOf('.');
    return dot < 0 ? typeUrl : typeUrl.substring(dot + 1);
  }
}
