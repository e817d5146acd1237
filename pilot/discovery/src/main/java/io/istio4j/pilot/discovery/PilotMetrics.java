package io.istio4j.pilot.discovery;

import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceRegistry;
import io.istio4j.pilot.registry.AggregateRegistry;
import io.istio4j.pilot.registry.SyncHealth;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Pilot's own metrics on the monitoring port. Names follow upstream Istio's Pilot where it had one
 * ({@code pilot_xds}, {@code pilot_xds_pushes}, {@code pilot_total_xds_rejects}, {@code pilot_services});
 * every gauge is read from the live parts at scrape time, so nothing here can drift from what
 * {@code /debug/*} shows.
 */
final class PilotMetrics {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter registryEvents;
  private final Counter configEvents;

  PilotMetrics(Supplier<XdsStats> xds, Supplier<List<ServiceRegistry>> registries,
      Supplier<List<ConfigObjectStatus>> config, Supplier<Readiness> readiness) {
    GaugeWithCallback.builder()
        .name("pilot_xds")
        .help("xDS clients (ADS streams) connected to this Pilot.")
        .callback(cb -> cb.call(xds.get().connectedClients()))
        .register(registry);
    CounterWithCallback.builder()
        .name("pilot_xds_pushes")
        .help("xDS responses sent to clients, by resource type.")
        .labelNames("type")
        .callback(cb -> xds.get().pushesByType().forEach((type, n) -> cb.call(n, type)))
        .register(registry);
    registry.register(() -> convergence(xds.get()));
    CounterWithCallback.builder()
        .name("pilot_total_xds_rejects")
        .help("NACKs received from clients (a resource the client refused), by resource type.")
        .labelNames("type")
        .callback(cb -> xds.get().nacksByType().forEach((type, n) -> cb.call(n, type)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_xds_ingress_rules_not_served")
        .help("Ingress rules the last push could not serve to ingress proxies (unknown service or port, a missing "
            + "or invalid TLS secret, a path another rule already routes); each is logged at WARN.")
        .callback(cb -> cb.call(xds.get().ingressRulesNotServed()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_services")
        .help("Services known to each registry.")
        .labelNames("registry")
        .callback(cb -> {
          for (ServiceRegistry r : registries.get()) {
            cb.call(r.services().size(), r.name());
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_service_instances")
        .help("Service instances (endpoints) known to each registry.")
        .labelNames("registry")
        .callback(cb -> {
          for (ServiceRegistry r : registries.get()) {
            cb.call(instanceCount(r), r.name());
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_config_objects")
        .help("Config objects by kind and state: VALID, STALE (an edit was rejected, the last valid "
            + "version is served), REJECTED (no valid version).")
        .labelNames("kind", "state")
        .callback(cb -> {
          Map<ConfigObjectStatus.State, Map<String, Integer>> counts = new EnumMap<>(ConfigObjectStatus.State.class);
          for (ConfigObjectStatus s : config.get()) {
            int slash = s.key().indexOf('/');
            String kind = slash < 0 ? "unknown" : s.key().substring(0, slash);
            counts.computeIfAbsent(s.state(), k -> new TreeMap<>()).merge(kind, 1, Integer::sum);
          }
          counts.forEach((state, byKind) -> byKind.forEach((kind, n) ->
              cb.call(n, kind, state.name().toLowerCase(Locale.ROOT))));
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_ready")
        .help("1 when every registry and the config store have synced and the xDS server serves (what /readyz says).")
        .callback(cb -> cb.call(readiness.get().ready() ? 1 : 0))
        .register(registry);
    registerRegistryHealth(registries);
    registryEvents = Counter.builder()
        .name("pilot_registry_events")
        .help("Registry change events, by registry, kind (service, instances) and type.")
        .labelNames("registry", "kind", "type")
        .register(registry);
    configEvents = Counter.builder()
        .name("pilot_config_events")
        .help("Config change events, by kind and type.")
        .labelNames("kind", "type")
        .register(registry);
    JvmMetrics.builder().register(registry);
  }

  /**
   * Mesh mutual TLS: what the CA issued, how often it failed, each identity's expiry and whether
   * its last request failed, and configuration problems (bad annotations, STRICT without accounts). Registered only when mutual TLS is on.
   */
  void registerCertificates(Supplier<@Nullable CertificateStatus> certs) {
    CounterWithCallback.builder()
        .name("pilot_mtls_certificates_issued")
        .help("Workload certificates the CA issued to Pilot (renewals included).")
        .callback(cb -> cb.call(certs.get() == null ? 0 : certs.get().issued()))
        .register(registry);
    CounterWithCallback.builder()
        .name("pilot_mtls_certificate_failures")
        .help("Certificate requests to the CA that failed (CA down, identity refused, bad answer); each is logged.")
        .callback(cb -> cb.call(certs.get() == null ? 0 : certs.get().failures()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_mtls_certificate_expiry_timestamp_seconds")
        .help("When each identity's current workload certificate expires (renewed at half its lifetime).")
        .labelNames("identity")
        .callback(cb -> {
          CertificateStatus c = certs.get();
          if (c != null) {
            c.expiries().forEach((id, at) -> cb.call(at, id));
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_mtls_certificate_failing")
        .help("1 for each identity whose last certificate request failed (/debug/certz says why).")
        .labelNames("identity")
        .callback(cb -> {
          CertificateStatus c = certs.get();
          if (c != null) {
            c.failing().keySet().forEach(id -> cb.call(1, id));
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_mtls_config_errors")
        .help("Mutual TLS configuration problems of the last push: auth.istio.io/<port> annotations not applied "
            + "(bad value or unknown port), STRICT ports whose instances run as no service account; /debug/certz lists them.")
        .callback(cb -> cb.call(certs.get() == null ? 0 : certs.get().configErrors().size()))
        .register(registry);
  }

  PrometheusRegistry registry() {
    return registry;
  }

  /**
   * Conflicts between registries (the same hostname in two), and how registries fed by a remote
   * server (Eureka, Consul) keep up with it.
   */
  private void registerRegistryHealth(Supplier<List<ServiceRegistry>> registries) {
    GaugeWithCallback.builder()
        .name("pilot_registry_conflicts")
        .help("Hostnames a registry also has but another registry, earlier in --registries, serves "
            + "(by the shadowed registry; /debug/registryz lists them).")
        .labelNames("registry")
        .callback(cb -> {
          Map<String, Integer> shadowed = new TreeMap<>();
          for (AggregateRegistry.Conflict c : AggregateRegistry.conflicts(registries.get())) {
            for (String r : c.shadowed()) {
              shadowed.merge(r, 1, Integer::sum);
            }
          }
          for (ServiceRegistry r : registries.get()) {
            cb.call(shadowed.getOrDefault(r.name(), 0), r.name());
          }
        })
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_registry_up")
        .help("1 when the registry's last exchange with its server (Eureka, Consul) succeeded.")
        .labelNames("registry")
        .callback(cb -> forEachHealth(registries, (name, h) -> cb.call(h.reachable() ? 1 : 0, name)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_registry_staleness_seconds")
        .help("0 while the registry's server answers; else seconds since its view was last confirmed "
            + "(the last known services are served meanwhile).")
        .labelNames("registry")
        .callback(cb -> forEachHealth(registries, (name, h) -> cb.call(h.stalenessSeconds(), name)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("pilot_registry_last_sync_timestamp_seconds")
        .help("When the registry's view was last confirmed by its server (Unix seconds; 0 if never).")
        .labelNames("registry")
        .callback(cb -> forEachHealth(registries, (name, h) -> {
          Instant t = h.lastSuccessfulSync();
          cb.call(t == null ? 0 : t.toEpochMilli() / 1000.0, name);
        }))
        .register(registry);
    CounterWithCallback.builder()
        .name("pilot_registry_requests")
        .help("Requests the registry sent to its server (polls, blocking queries).")
        .labelNames("registry")
        .callback(cb -> forEachHealth(registries, (name, h) -> cb.call(h.requests(), name)))
        .register(registry);
    CounterWithCallback.builder()
        .name("pilot_registry_sync_errors")
        .help("Failed exchanges with the registry's server: unreachable, timed out, an error status, "
            + "a body too large or not understood.")
        .labelNames("registry")
        .callback(cb -> forEachHealth(registries, (name, h) -> cb.call(h.syncErrors(), name)))
        .register(registry);
  }

  private static void forEachHealth(Supplier<List<ServiceRegistry>> registries, BiConsumer<String, SyncHealth> action) {
    for (ServiceRegistry r : registries.get()) {
      if (r instanceof SyncHealth h) {
        action.accept(r.name(), h);
      }
    }
  }

  void registryEvent(RegistryEvent e) {
    registryEvents.labelValues(e.registry(), e.kind().name().toLowerCase(Locale.ROOT),
        e.type().name().toLowerCase(Locale.ROOT)).inc();
  }

  void configEvent(ConfigEvent e) {
    configEvents.labelValues(e.config().meta().kind().type(), e.type().name().toLowerCase(Locale.ROOT)).inc();
  }

  /**
   * The xDS server's push latency histogram, under upstream Istio's name: the time from a change to
   * a proxy having all of the config it caused.
   */
  private static HistogramSnapshot convergence(XdsStats s) {
    double[] bounds = new double[s.pushLatencyBounds().size() + 1];
    long[] counts = new long[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = i < s.pushLatencyBounds().size() ? s.pushLatencyBounds().get(i) : Double.POSITIVE_INFINITY;
      counts[i] = s.pushLatencyCounts().get(i);
    }
    return HistogramSnapshot.builder()
        .name("pilot_proxy_convergence_time")
        .help("Seconds from a registry or config change to its push being sent to the clients it affects.")
        .dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
            .classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, counts))
            .sum(s.pushSecondsSum())
            .build())
        .build();
  }

  static int instanceCount(ServiceRegistry r) {
    int n = 0;
    for (Service s : r.services()) {
      n += r.instances(s.hostname(), Set.of(), LabelsCollection.ALL).size();
    }
    return n;
  }
}
