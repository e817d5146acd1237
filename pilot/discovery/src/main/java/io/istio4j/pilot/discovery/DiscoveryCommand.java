package io.istio4j.pilot.discovery;

import io.istio4j.pilot.config.v1.MeshConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code pilot-discovery discovery}: runs Pilot until SIGTERM or SIGINT, then stops gracefully and exits 0. */
@Command(name = "discovery", mixinStandardHelpOptions = true,
    description = "Starts Pilot: xDS v3 (ADS) on --grpcPort, self-monitoring HTTP on --monitoringPort.")
final class DiscoveryCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(DiscoveryCommand.class);

  @Option(names = "--grpcPort", defaultValue = "15010",
      description = "xDS (ADS) gRPC port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--address", defaultValue = "",
      description = "Host name or IP address the gRPC server listens on (default: all interfaces).")
  String address;

  @Option(names = "--monitoringPort", defaultValue = "15014",
      description = "HTTP port for /metrics, /healthz, /readyz, /version and /debug/* (default: ${DEFAULT-VALUE}).")
  int monitoringPort;

  @Option(names = "--monitoringAddress", defaultValue = "",
      description = "Host name or IP address the monitoring server listens on (default: all interfaces).")
  String monitoringAddress;

  @Option(names = "--registries", split = ",", paramLabel = "REGISTRY",
      defaultValue = "kubernetes",
      description = "Service registries, in priority order, joined by ',': file://DIR (Kubernetes v1 Service, "
          + "Endpoints and Pod YAML), kubernetes, eureka://HOST:PORT[/PATH], consul://HOST:PORT "
          + "(default: ${DEFAULT-VALUE}). A hostname in two registries is served by the first.")
  List<String> registries = new ArrayList<>();

  @Option(names = "--configStoreURL", paramLabel = "URL",
      description = "Config store: fs://DIR (RouteRule, DestinationPolicy, EgressRule YAML, watched) or k8s:// "
          + "(CRDs). None by default: every service gets its default route.")
  String configStoreUrl;

  @Option(names = "--domain", defaultValue = "cluster.local",
      description = "DNS domain suffix of the mesh (default: ${DEFAULT-VALUE}).")
  String domain;

  @Option(names = {"-a", "--appNamespace"}, defaultValue = "",
      description = "Restrict the Kubernetes registry and store to this namespace (default: all namespaces).")
  String appNamespace;

  @Option(names = "--meshConfig", paramLabel = "FILE",
      description = "MeshConfig YAML laid over upstream's defaults (default: the defaults).")
  Path meshConfig;

  @Option(names = "--shutdownGracePeriod", defaultValue = "5s", converter = PilotDiscovery.DurationConverter.class,
      description = "Time open ADS streams get to end on SIGTERM before they are cancelled (default: ${DEFAULT-VALUE}).")
  Duration shutdownGracePeriod;

  @Option(names = "--filePollInterval", defaultValue = "1s", converter = PilotDiscovery.DurationConverter.class,
      description = "How often file:// registries and the fs:// store look for changed files (default: ${DEFAULT-VALUE}).")
  Duration filePollInterval;

  @Option(names = "--caAddress", paramLabel = "HOST:PORT",
      description = "The CA's gRPC address (istio-ca:8060). Turns on mesh mutual TLS: Pilot asks the CA for each "
          + "workload's certificate and serves it over SDS. Off when not set.")
  String caAddress;

  @Option(names = "--caRootCert", paramLabel = "FILE",
      description = "The CA's root certificate (PEM): trusts the CA and is served to proxies as ROOTCA. Needs --caAddress.")
  Path caRootCert;

  @Option(names = "--caTokenFile", paramLabel = "FILE",
      description = "Bearer token Pilot presents to the CA (e.g. its service account token). Needs --caAddress.")
  Path caTokenFile;

  @Option(names = "--caServerName", paramLabel = "NAME",
      description = "Name checked in the CA's serving certificate when it is not the host of --caAddress.")
  String caServerName;

  @Option(names = "--mtlsMode", paramLabel = "MODE",
      description = "Mesh-wide mutual TLS mode: STRICT (MUTUAL_TLS), PERMISSIVE or DISABLE (NONE); per port "
          + "auth.istio.io/<port> annotations override it (default: the MeshConfig's authPolicy). Needs --caAddress.")
  String mtlsMode;

  @Option(names = "--certificateTtl", converter = PilotDiscovery.DurationConverter.class,
      description = "Workload certificate lifetime Pilot asks the CA for (default: the CA's). Needs --caAddress.")
  Duration certificateTtl;

  /**
   * What the flags ask for.
   *
   * @throws IllegalArgumentException naming the flag that is wrong and what was expected
   */
  DiscoveryOptions options() {
    MeshConfig meshValues = MeshSettings.loadMeshConfig(meshConfig);
    MtlsSettings mtls = MtlsSettings.fromFlags(caAddress, caServerName, caRootCert, caTokenFile, mtlsMode,
        certificateTtl, meshValues);
    if (mtls == null && meshValues.getAuthPolicy() == MeshConfig.AuthPolicy.MUTUAL_TLS) {
      log.warn("--meshConfig asks for authPolicy MUTUAL_TLS but --caAddress is not set: mutual TLS stays off");
    }
    MeshSettings mesh = new MeshSettings(domain, appNamespace, meshValues, mtls);
    return new DiscoveryOptions(address, grpcPort, monitoringAddress, monitoringPort,
        registries, configStoreUrl, mesh, shutdownGracePeriod, filePollInterval);
  }

  @Override
  public Integer call() throws Exception {
    PilotServer server;
    try {
      server = PilotServer.start(options(), PilotComponents.standard());
    } catch (IllegalArgumentException | IllegalStateException | IOException e) {
      System.err.println("pilot-discovery: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runnable stop = () -> {
      try {
        log.info("shutting down: ending ADS streams (grace period {})", shutdownGracePeriod);
        server.shutdownGracefully();
        log.info("stopped");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        stopped.countDown();
      }
    };
    // Handle SIGTERM and SIGINT ourselves so that a graceful stop exits 0, not 143.
    for (String sig : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(sig), s -> new Thread(stop, "pilot-shutdown").start());
    }
    stopped.await();
    return 0;
  }
}
