package io.istio4j.pilot.discovery;

import io.grpc.ServerServiceDefinition;
import io.istio4j.pilot.config.ConfigParser;
import io.istio4j.pilot.config.ConfigStores;
import io.istio4j.pilot.config.DirectoryValidator;
import io.istio4j.pilot.config.IngressOptions;
import io.istio4j.pilot.config.ValidatingConfigStore;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigStore;
import io.istio4j.pilot.model.ConfigStoreCache;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceRegistry;
import io.istio4j.pilot.registry.AggregateRegistry;
import io.istio4j.pilot.registry.Registries;
import io.istio4j.pilot.registry.RegistryDebug;
import io.istio4j.pilot.registry.RegistryOptions;
import io.istio4j.pilot.xds.MeshSecurity;
import io.istio4j.pilot.xds.XdsOptions;
import io.istio4j.pilot.xds.XdsServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The wiring of the real parts: pilot/registry's registries and aggregate view, pilot/config's stores
 * and validator, pilot/xds's server. Kept in one place so that the process's own code depends on the
 * other modules only here.
 */
final class StandardComponents {

  private static final Logger log = LoggerFactory.getLogger(StandardComponents.class);

  private StandardComponents() {}

  static PilotComponents create() {
    return new PilotComponents(
        StandardComponents::openRegistry,
        AggregateRegistry::new,
        StandardComponents::openConfigStore,
        StandardComponents::xdsServer,
        StandardComponents::configStatus,
        (dir, mesh) -> new DirectoryValidator(new ConfigParser(ConfigParser.DEFAULT_NAMESPACE, mesh.domain(),
            IngressOptions.of(mesh.meshConfig()))).validate(dir).errors(),
        RegistryDebug::describe);
  }

  /** The MeshConfig's settings the translation uses, over pilot/xds's defaults (debounce, validation). */
  static XdsOptions xdsOptions(MeshSettings mesh) {
    XdsOptions d = XdsOptions.defaults();
    MeshConfig m = mesh.meshConfig();
    Duration connect = m.hasConnectTimeout() && (m.getConnectTimeout().getSeconds() > 0 || m.getConnectTimeout().getNanos() > 0)
        ? Duration.ofSeconds(m.getConnectTimeout().getSeconds(), m.getConnectTimeout().getNanos())
        : d.connectTimeout();
    int listen = m.getProxyListenPort() > 0 ? m.getProxyListenPort() : d.proxyListenPort();
    return new XdsOptions(mesh.domain(), listen, connect, d.debounce(), d.edsDebounce(), d.validateResources());
  }

  /**
   * pilot/xds's server; with {@code --caAddress}, its certificates come from the CA through
   * {@link CaCertificateSource} (which retries with backoff while the CA is down, so a CA that is not
   * up yet does not stop Pilot from starting: proxies get their TLS secrets once it answers).
   */
  static XdsEndpoint xdsServer(ServiceDiscovery discovery, ConfigStore store, MeshSettings mesh) {
    MtlsSettings mtls = mesh.mtls();
    if (mtls == null) {
      return new XdsServerEndpoint(new XdsServer(discovery, store, xdsOptions(mesh)), null, null);
    }
    CaCertificateSource.Options d = CaCertificateSource.Options.of(mtls.caAddress(), mtls.caRoot(), mtls.token());
    CaCertificateSource certs = new CaCertificateSource(new CaCertificateSource.Options(mtls.caAddress(),
        mtls.caServerName(), mtls.caRoot(), mtls.token(), mtls.certificateTtl(), d.renewAt(), d.initialBackoff(),
        d.maxBackoff(), d.callTimeout()));
    try {
      XdsServer server = new XdsServer(discovery, store, xdsOptions(mesh), new MeshSecurity(mtls.mode(), certs));
      log.info("mesh mutual TLS on: mode {}, certificates from the CA at {}", mtls.mode(), mtls.caAddress());
      return new XdsServerEndpoint(server, certs, mtls);
    } catch (RuntimeException e) {
      certs.close();
      throw e;
    }
  }

  /** pilot/xds's server behind the process's view of it. */
  private record XdsServerEndpoint(XdsServer server, @Nullable CaCertificateSource certs,
      @Nullable MtlsSettings mtls) implements XdsEndpoint {
    @Override
    public @Nullable CertificateStatus certificates() {
      if (certs == null || mtls == null) {
        return null;
      }
      return new CertificateStatus(mtls.mode().name(), mtls.caAddress(), certs.issued(), certs.failures(),
          certs.expiries(), certs.failing(), server.mtlsErrors());
    }

    @Override
    public List<ServerServiceDefinition> services() {
      return List.of(server.adsService());
    }

    @Override
    public void onRegistryEvent(RegistryEvent event) {
      server.onRegistryEvent(event);
    }

    @Override
    public void onConfigEvent(ConfigEvent event) {
      server.onConfigEvent(event);
    }

    @Override
    public void startServing() {
      server.markSynced();
    }

    @Override
    public boolean serving() {
      return server.ready();
    }

    @Override
    public XdsStats stats() {
      io.istio4j.pilot.xds.XdsStats s = server.stats();
      List<Double> bounds = new ArrayList<>();
      for (double b : io.istio4j.pilot.xds.XdsStats.LATENCY_BUCKETS) {
        bounds.add(b);
      }
      List<Long> counts = new ArrayList<>();
      for (long c : s.pushLatencyBuckets()) {
        counts.add(c);
      }
      return new XdsStats(s.connectedClients(), s.responsesByType(), bounds, counts, s.pushLatencySumSeconds(),
          s.nacksByType(), s.ingressRulesNotServed());
    }

    @Override
    public String clientsJson() {
      return server.clientsJson();
    }

    @Override
    public void close() {
      server.close();
      if (certs != null) {
        certs.close();
      }
    }
  }

  /**
   * The {@code --configStoreURL} store. Objects without a namespace go to {@code --appNamespace}, else
   * {@code default}; {@code k8s://} watches only {@code --appNamespace} when it is set. Ingresses of
   * the MeshConfig's {@code ingressClass} (per {@code ingressControllerMode}) are read as IngressRules.
   */
  private static ConfigStoreCache openConfigStore(String url, DiscoveryOptions options) {
    String ns = options.mesh().appNamespace();
    ConfigParser parser = new ConfigParser(ns.isEmpty() ? ConfigParser.DEFAULT_NAMESPACE : ns, options.mesh().domain(),
        IngressOptions.of(options.mesh().meshConfig()));
    String location = url;
    if (!ns.isEmpty() && url.equals("k8s://")) {
      location = "k8s://?namespace=" + URLEncoder.encode(ns, StandardCharsets.UTF_8);
    }
    try {
      return ConfigStores.open(location, parser, options.filePollInterval());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--configStoreURL: " + e.getMessage(), e);
    }
  }

  /** What the store says of each object; a store that keeps no record has every object accepted. */
  private static List<ConfigObjectStatus> configStatus(ConfigStoreCache store) {
    if (!(store instanceof ValidatingConfigStore v)) {
      return PilotComponents.listedAsAccepted(store);
    }
    List<ConfigObjectStatus> out = new ArrayList<>();
    for (io.istio4j.pilot.config.ConfigObjectStatus s : v.statuses()) {
      ConfigObjectStatus.State state = switch (s.state()) {
        case VALID -> ConfigObjectStatus.State.VALID;
        case STALE -> ConfigObjectStatus.State.STALE;
        case REJECTED -> ConfigObjectStatus.State.REJECTED;
      };
      String error = s.errors().isEmpty() ? null : String.join("; ", s.errors())
          + (state == ConfigObjectStatus.State.STALE ? " [last valid version from " + s.liveSource() + " stays in use]" : "");
      out.add(new ConfigObjectStatus(s.key().isEmpty() ? s.source() : s.key(), state, s.source(), error));
    }
    return out;
  }

  /**
   * One {@code --registries} entry. {@link Registries#open} takes the whole list and answers with
   * their aggregate; asked for one entry, its aggregate holds exactly that registry, which is what
   * the process keeps (it builds the aggregate itself, over every entry, and reports each one).
   */
  private static ServiceRegistry openRegistry(String spec, DiscoveryOptions options) {
    String ns = options.mesh().appNamespace();
    RegistryOptions o = RegistryOptions.of(options.mesh().domain())
        .withKubernetesNamespace(ns.isEmpty() ? null : ns)
        .withFilePollInterval(options.filePollInterval());
    try {
      return Registries.open(spec, o).registries().get(0);
    } catch (IllegalArgumentException e) {
      String m = String.valueOf(e.getMessage());
      throw m.startsWith("--registries") ? e : new IllegalArgumentException("--registries: " + m, e);
    }
  }
}
