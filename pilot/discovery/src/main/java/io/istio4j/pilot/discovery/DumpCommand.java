package io.istio4j.pilot.discovery;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pilot-discovery dump}: connects to Pilot over ADS as the given node, asks for resources the way
 * a proxy does (clusters, then their endpoints; listeners, then their routes) and prints them as JSON.
 * Exit 0 on success, 1 when Pilot does not answer, 2 for usage errors.
 */
@Command(name = "dump", mixinStandardHelpOptions = true,
    description = "Prints what Pilot serves a node over ADS, as JSON.")
final class DumpCommand implements Callable<Integer> {

  /** What to print. */
  enum Type {
    CLUSTERS,
    ENDPOINTS,
    LISTENERS,
    ROUTES,
    ALL
  }

  @Option(names = {"-s", "--server"}, defaultValue = "localhost:15010",
      description = "Pilot's xDS address, host:port (default: ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--node", defaultValue = "sidecar~127.0.0.1~dump.default~default.svc.cluster.local",
      description = "The node id to present, type~ip~id~domain (default: ${DEFAULT-VALUE}).")
  String node;

  @Option(names = "--cluster", defaultValue = "istio-proxy",
      description = "The node's service cluster (default: ${DEFAULT-VALUE}).")
  String cluster;

  @Option(names = {"-t", "--type"}, defaultValue = "all",
      description = "clusters, endpoints, listeners, routes or all (default: ${DEFAULT-VALUE}).")
  Type type;

  @Option(names = {"-r", "--resources"}, split = ",", paramLabel = "NAME",
      description = "Ask for these names of --type instead of everything (listeners as a proxyless gRPC client "
          + "names them: reviews.default.svc.cluster.local:9080).")
  List<String> resources = new ArrayList<>();

  @Option(names = "--timeout", defaultValue = "10s", converter = PilotDiscovery.DurationConverter.class,
      description = "How long to wait for each response (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Override
  public Integer call() throws Exception {
    if (!resources.isEmpty() && type == Type.ALL) {
      System.err.println("pilot-discovery dump: --resources needs a --type other than all");
      return 2;
    }
    String problem = checkServer(server);
    if (problem != null) {
      System.err.println("pilot-discovery dump: --server " + server + ": " + problem);
      return 2;
    }
    ManagedChannel channel;
    try {
      channel = Grpc.newChannelBuilder(server, InsecureChannelCredentials.create()).build();
    } catch (IllegalArgumentException e) {
      System.err.println("pilot-discovery dump: --server " + server + ": " + e.getMessage());
      return 2;
    }
    try (AdsClient ads = new AdsClient(channel, AdsClient.node(node, cluster), timeout)) {
      Map<String, DiscoveryResponse> out = fetch(ads);
      ResourceJson json = new ResourceJson();
      StringBuilder b = new StringBuilder("{");
      String sep = "\n";
      for (Map.Entry<String, DiscoveryResponse> e : out.entrySet()) {
        b.append(sep).append("  \"").append(e.getKey()).append("\": {\n    \"versionInfo\": \"")
            .append(e.getValue().getVersionInfo()).append("\",\n    \"resources\": ")
            .append(json.array(e.getValue().getResourcesList()).replace("\n", "\n    ")).append("\n  }");
        sep = ",\n";
      }
      System.out.println(b.append("\n}"));
      return 0;
    } catch (AdsClient.AdsException e) {
      System.err.println("pilot-discovery dump: " + server + ": " + e.getMessage());
      return 1;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Why {@code host:port} is not an address, or null when it is one. */
  static @Nullable String checkServer(String server) {
    int colon = server.lastIndexOf(':');
    if (colon <= 0 || colon == server.length() - 1) {
      return "expected host:port";
    }
    try {
      int port = Integer.parseInt(server.substring(colon + 1));
      return port >= 1 && port <= 65535 ? null : "port " + port + " (expected: 1-65535)";
    } catch (NumberFormatException e) {
      return "port '" + server.substring(colon + 1) + "' is not a number (expected: 1-65535)";
    }
  }

  private Map<String, DiscoveryResponse> fetch(AdsClient ads) throws Exception {
    Map<String, DiscoveryResponse> out = new LinkedHashMap<>();
    boolean all = type == Type.ALL;
    if (all || type == Type.CLUSTERS || type == Type.ENDPOINTS) {
      List<String> names = type == Type.CLUSTERS ? resources : List.of();
      DiscoveryResponse clusters = type == Type.ENDPOINTS && !resources.isEmpty() ? null
          : ads.fetch(AdsClient.CLUSTER, names);
      if (type != Type.ENDPOINTS) {
        out.put("clusters", clusters);
      }
      if (all || type == Type.ENDPOINTS) {
        List<String> eds = resources.isEmpty() ? AdsClient.edsNames(clusters) : resources;
        if (!eds.isEmpty()) {
          out.put("endpoints", ads.fetch(AdsClient.ENDPOINT, eds));
        }
      }
    }
    if (all || type == Type.LISTENERS || type == Type.ROUTES) {
      List<String> names = type == Type.LISTENERS ? resources : List.of();
      DiscoveryResponse listeners = type == Type.ROUTES && !resources.isEmpty() ? null
          : ads.fetch(AdsClient.LISTENER, names);
      if (type != Type.ROUTES) {
        out.put("listeners", listeners);
      }
      if (all || type == Type.ROUTES) {
        List<String> rds = resources.isEmpty() ? AdsClient.rdsNames(listeners) : resources;
        if (!rds.isEmpty()) {
          out.put("routes", ads.fetch(AdsClient.ROUTE, rds));
        }
      }
    }
    return out;
  }
}
