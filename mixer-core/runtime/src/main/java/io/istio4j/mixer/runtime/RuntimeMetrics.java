package io.istio4j.mixer.runtime;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runtime's own metrics: dispatches and their latency by handler, adapter and template; config
 * objects by state; the snapshot version; resolution failures. Label children are looked up when a
 * snapshot is built, so dispatching allocates nothing for metrics.
 */
final class RuntimeMetrics {

  private final Counter dispatches;
  private final Histogram dispatchSeconds;
  private final Gauge objects;
  private final Gauge version;
  private final Gauge buildSeconds;
  private final Counter reloads;
  private final Counter resolveErrors;
  private final Counter instanceErrors;
  private final Counter rejections;
  private final Counter objectErrors;
  private final Counter storeErrors;
  private final Counter handlerRetries;
  private final Map<String, Stats> stats = new ConcurrentHashMap<>();

  /** Registers the runtime's metrics on {@code registry}. */
  public RuntimeMetrics(PrometheusRegistry registry) {
    dispatches = Counter.builder().name("mixer_runtime_dispatches")
        .help("Calls to handlers, by handler, adapter, template and result (ok, error, timeout)")
        .labelNames("handler", "adapter", "template", "result").register(registry);
    dispatchSeconds = Histogram.builder().name("mixer_runtime_dispatch_duration_seconds")
        .help("Time handlers took per call").classicUpperBounds(
            0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5)
        .labelNames("handler", "adapter", "template").register(registry);
    objects = Gauge.builder().name("mixer_config_objects")
        .help("Config objects of the live snapshot, by state (active, unused, rejected, stale: an edit rejected "
            + "while its last good version stays in use)")
        .labelNames("state").register(registry);
    version = Gauge.builder().name("mixer_config_snapshot_version")
        .help("Version of the live config snapshot; 0 until config is loaded").register(registry);
    buildSeconds = Gauge.builder().name("mixer_config_snapshot_build_seconds")
        .help("How long building the live config snapshot took").register(registry);
    reloads = Counter.builder().name("mixer_config_reloads")
        .help("Config snapshots built, by result (applied; failed or refused, keeping the previous one)").labelNames("result").register(registry);
    resolveErrors = Counter.builder().name("mixer_runtime_resolve_errors")
        .help("Requests whose rules could not be resolved (identity attribute missing, match failed)")
        .labelNames("method").register(registry);
    instanceErrors = Counter.builder().name("mixer_runtime_instance_errors")
        .help("Instances that could not be built from a request's attributes, by template and instance")
        .labelNames("template", "instance").register(registry);
    rejections = Counter.builder().name("mixer_config_rejections")
        .help("Config rejections first seen, by kind: an invalid new object, or an edit whose last good version "
            + "stays in use (counted once, not on every reload)")
        .labelNames("kind").register(registry);
    objectErrors = Counter.builder().name("mixer_config_object_errors")
        .help("Config objects whose checking or building threw (StackOverflowError, an adapter's exception); "
            + "each such object is rejected and the rest applies")
        .labelNames("kind").register(registry);
    storeErrors = Counter.builder().name("mixer_config_store_errors")
        .help("Failures to read the config store while following it; the config in use stays")
        .register(registry);
    handlerRetries = Counter.builder().name("mixer_config_handler_retries")
        .help("Builds run again for handlers whose build failed for a reason that may pass (a port in use, a "
            + "backend not reachable), by result (built, failed)")
        .labelNames("result").register(registry);
    for (ObjectStatus.State s : ObjectStatus.State.values()) {
      objects.labelValues(s.name().toLowerCase(Locale.ROOT)).set(0);
    }
    // Exported at 0 from the start, so that rate() and alerts see the first error as an increase.
    for (String method : new String[] {"Check", "Quota", "Report"}) {
      resolveErrors.labelValues(method);
    }
  }

  /** The data points of one (handler, template) pair. */
  public static final class Stats {
    final CounterDataPoint ok;
    final CounterDataPoint error;
    final CounterDataPoint timeout;
    final DistributionDataPoint seconds;

    Stats(CounterDataPoint ok, CounterDataPoint error, CounterDataPoint timeout, DistributionDataPoint seconds) {
      this.ok = ok;
      this.error = error;
      this.timeout = timeout;
      this.seconds = seconds;
    }
  }

  Stats stats(String handler, String adapter, String template) {
    return stats.computeIfAbsent(handler + "\n" + template, k -> new Stats(
        dispatches.labelValues(handler, adapter, template, "ok"),
        dispatches.labelValues(handler, adapter, template, "error"),
        dispatches.labelValues(handler, adapter, template, "timeout"),
        dispatchSeconds.labelValues(handler, adapter, template)));
  }

  void snapshot(long v, List<ObjectStatus> statuses, double seconds) {
    buildSeconds.set(seconds);
    Map<ObjectStatus.State, Integer> counts = new EnumMap<>(ObjectStatus.State.class);
    for (ObjectStatus s : statuses) {
      counts.merge(s.state(), 1, Integer::sum);
    }
    for (ObjectStatus.State s : ObjectStatus.State.values()) {
      objects.labelValues(s.name().toLowerCase(Locale.ROOT)).set(counts.getOrDefault(s, 0));
    }
    version.set(v);
    reloads.labelValues("applied").inc();
  }

  void reloadFailed() {
    reloads.labelValues("failed").inc();
  }

  /** A snapshot built but not applied: {@code --configStrict} with rejections. */
  void reloadRefused() {
    reloads.labelValues("refused").inc();
  }

  void rejected(String kind) {
    rejections.labelValues(kind.isEmpty() ? "document" : kind).inc();
  }

  void configError(String kind) {
    objectErrors.labelValues(kind.isEmpty() ? "document" : kind).inc();
  }

  void storeError() {
    storeErrors.inc();
  }

  void handlerRetry(boolean built) {
    handlerRetries.labelValues(built ? "built" : "failed").inc();
  }

  void resolveError(String method) {
    resolveErrors.labelValues(method).inc();
  }

  void instanceError(String template, String instance) {
    instanceErrors.labelValues(template, instance).inc();
  }
}
