package io.istio4j.pilot.discovery;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pilot-discovery loadtest}: the scale harness of issue 14 item 8. Generates a file registry of
 * {@code --services} services with {@code --endpoints} endpoints in all (pods labelled {@code v1} and
 * {@code v2}) and a route rule per ten services, starts Pilot as its own JVM ({@code -Xmx} from
 * {@code --pilotHeap}), opens {@code --clients} ADS streams as sidecars that behave like Envoy (wildcard
 * clusters and listeners, then the endpoints and routes they name, every response ACKed), and measures:
 *
 * <ul>
 *   <li>a config change (a route rule's weights edited in its file) until every client has received
 *       the resulting push (the last response of the push at the slowest client);
 *   <li>an endpoint change (a pod's IP edited in a registry file) until every client has it;
 *   <li>Pilot's heap after a full GC ({@code jcmd GC.run}, then {@code jvm_memory_used_bytes{area="heap"}}).
 * </ul>
 *
 * <p>Each latency includes the store's or registry's file watch, as an operator would see it. Results
 * go to stdout as one JSON object. Not a test: run it by hand, see docs/performance.md ("Pilot scale").
 */
@Command(name = "loadtest", hidden = true, mixinStandardHelpOptions = true,
    description = "Measures push latency and heap at scale (default 1000 services, 5000 endpoints, 100 ADS clients).")
final class LoadTestCommand implements Callable<Integer> {

  @Option(names = "--services", defaultValue = "1000")
  int services;

  @Option(names = "--endpoints", defaultValue = "5000", description = "Endpoints in all, spread over the services.")
  int endpoints;

  @Option(names = "--clients", defaultValue = "100")
  int clients;

  @Option(names = "--rounds", defaultValue = "5", description = "Config changes and endpoint changes, each.")
  int rounds;

  @Option(names = "--pilotHeap", defaultValue = "1g", description = "Pilot's -Xmx (default: ${DEFAULT-VALUE}).")
  String pilotHeap;

  @Option(names = "--work", description = "Directory for the generated registry, config and Pilot's log "
      + "(default: a new temporary directory).")
  Path work;

  @Option(names = "--quiet", defaultValue = "1s", converter = PilotDiscovery.DurationConverter.class,
      description = "A push is complete when no client has received anything for this long (default: ${DEFAULT-VALUE}).")
  Duration quiet;

  @Option(names = "--filePollInterval", defaultValue = "1s", converter = PilotDiscovery.DurationConverter.class,
      description = "Pilot's --filePollInterval in process mode (default: ${DEFAULT-VALUE}).")
  Duration filePollInterval;

  @Option(names = "--connectBatch", defaultValue = "0",
      description = "Connect clients this many at a time, each batch once the previous has its full config "
          + "(default: all at once).")
  int connectBatch;

  @Option(names = "--inProcess", description = "Run Pilot in this JVM on an in-memory registry and store, changed "
      + "directly: measures the push pipeline without file watching (no heap figure: the clients share the heap).")
  boolean inProcess;

  private final HttpClient http = HttpClient.newHttpClient();

  @Override
  public Integer call() throws Exception {
    if (work == null) {
      work = Files.createTempDirectory("pilot-loadtest");
    }
    long startNanos = System.nanoTime();
    try (Target target = inProcess ? new InProcess() : new ChildProcess()) {
      double readySeconds = (System.nanoTime() - startNanos) / 1e9;
      System.err.printf(Locale.ROOT, "pilot ready in %.1f s (%d services, %d endpoints)%n", readySeconds, services, endpoints);
      List<LoadClient> streams = new ArrayList<>();
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        long connectStart = System.nanoTime();
        for (int c = 0; c < clients; c++) {
          ManagedChannel ch = Grpc.newChannelBuilder("127.0.0.1:" + target.grpcPort(), InsecureChannelCredentials.create())
              .maxInboundMessageSize(256 * 1024 * 1024).build();
          channels.add(ch);
          LoadClient client = new LoadClient(ch, AdsClient.node("sidecar~10.200." + (c / 250) + "." + (c % 250 + 1)
              + "~client-" + c + ".load~load.svc.cluster.local", "client-" + c));
          streams.add(client);
          client.start();
          if (connectBatch > 0 && streams.size() % connectBatch == 0 && c < clients - 1) {
            awaitQuiet(streams, 0, Duration.ofMinutes(5));
          }
        }
        awaitQuiet(streams, 0, Duration.ofMinutes(5));
        double initialSeconds = (System.nanoTime() - connectStart) / 1e9;
        System.err.printf(Locale.ROOT, "%d clients have their full config after %.1f s%n", clients, initialSeconds);

        List<Double> configChanges = new ArrayList<>();
        List<Double> endpointChanges = new ArrayList<>();
        List<Double> configServer = new ArrayList<>();
        List<Double> endpointServer = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          int round = r;
          double[] before = target.convergence();
          configChanges.add(measure(streams, () -> target.changeConfig(round)));
          double[] mid = target.convergence();
          endpointChanges.add(measure(streams, () -> target.changeEndpoint(round)));
          double[] after = target.convergence();
          configServer.add(meanMillis(before, mid));
          endpointServer.add(meanMillis(mid, after));
          System.err.printf(Locale.ROOT, "round %d: config change %.1f ms (server push %.1f ms), endpoint change %.1f ms "
              + "(server push %.1f ms)%n", r, configChanges.get(r), configServer.get(r), endpointChanges.get(r),
              endpointServer.get(r));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", inProcess ? "in-process (memory registry and store)" : "process (file registry, fs store)");
        out.put("services", services);
        out.put("endpoints", endpoints);
        out.put("clients", clients);
        out.put("readySeconds", round(readySeconds));
        out.put("initialFullConfigSeconds", round(initialSeconds));
        out.put("configChangeToAllClientsMillis", configChanges);
        out.put("endpointChangeToAllClientsMillis", endpointChanges);
        out.put("configChangeServerPushMillis", configServer);
        out.put("endpointChangeServerPushMillis", endpointServer);
        if (!inProcess) {
          out.put("filePollInterval", filePollInterval.toMillis() + "ms");
          out.put("pilotHeapMax", pilotHeap);
          out.put("heapUsedAfterGcMiB", target.heapAfterGc() / (1024 * 1024));
        }
        out.put("work", work.toString());
        System.out.println(DebugPages.write(out).strip());
        return 0;
      } finally {
        for (LoadClient c : streams) {
          c.close();
        }
        for (ManagedChannel ch : channels) {
          ch.shutdownNow();
        }
      }
    }
  }

  /** The Pilot under test, and the changes the harness makes to it. */
  private interface Target extends AutoCloseable {
    int grpcPort();

    void changeConfig(int round) throws Exception;

    void changeEndpoint(int round) throws Exception;

    long heapAfterGc() throws Exception;

    /** {@code pilot_proxy_convergence_time}'s sum (seconds) and count. */
    double[] convergence() throws Exception;
  }

  /** Mean push time, in milliseconds, of the pushes between two readings of the histogram; -1 when none. */
  private static double meanMillis(double[] before, double[] after) {
    double n = after[1] - before[1];
    return n <= 0 ? -1 : round((after[0] - before[0]) / n * 1000);
  }

  static double[] convergence(String metrics) {
    Matcher sum = Pattern.compile("(?m)^pilot_proxy_convergence_time_sum (\\S+)$").matcher(metrics);
    Matcher count = Pattern.compile("(?m)^pilot_proxy_convergence_time_count (\\S+)$").matcher(metrics);
    if (!sum.find() || !count.find()) {
      throw new IllegalStateException("no pilot_proxy_convergence_time on /metrics");
    }
    return new double[] {Double.parseDouble(sum.group(1)), Double.parseDouble(count.group(1))};
  }

  /** Pilot as its own JVM on generated files: what an operator runs, file watching included. */
  private final class ChildProcess implements Target {
    private final Path registry;
    private final Path config;
    private final int grpc;
    private final int monitoring;
    private final Process pilot;

    ChildProcess() throws Exception {
      registry = Files.createDirectories(work.resolve("registry"));
      config = Files.createDirectories(work.resolve("config"));
      for (int s = 0; s < services; s++) {
        write(registry.resolve(svc(s) + ".yaml"), serviceYaml(s, 0));
      }
      for (int s = 0; s < services; s += 10) {
        write(config.resolve(svc(s) + "-rule.yaml"), ruleYaml(s, 90));
      }
      grpc = freePort();
      monitoring = freePort();
      Path log = work.resolve("pilot.log");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      pilot = new ProcessBuilder(java, "-Xmx" + pilotHeap, "-XX:+UseG1GC",
          "-cp", System.getProperty("java.class.path"), PilotDiscovery.class.getName(), "discovery",
          "--registries", "file://" + registry, "--configStoreURL", "fs://" + config,
          "--grpcPort", String.valueOf(grpc), "--monitoringPort", String.valueOf(monitoring),
          "--address", "127.0.0.1", "--monitoringAddress", "127.0.0.1", "--shutdownGracePeriod", "1s",
          "--filePollInterval", filePollInterval.toMillis() + "ms")
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      awaitReady(monitoring, pilot, log);
    }

    @Override
    public int grpcPort() {
      return grpc;
    }

    @Override
    public void changeConfig(int round) throws IOException {
      int s = (round * 10) % services;
      write(config.resolve(svc(s) + "-rule.yaml"), ruleYaml(s, 80 - round % 50));
    }

    @Override
    public void changeEndpoint(int round) throws IOException {
      int e = (round * 7 + 1) % services;
      write(registry.resolve(svc(e) + ".yaml"), serviceYaml(e, round + 1));
    }

    @Override
    public long heapAfterGc() throws Exception {
      return LoadTestCommand.this.heapAfterGc(pilot.pid(), monitoring);
    }

    @Override
    public double[] convergence() throws Exception {
      return LoadTestCommand.convergence(get(monitoring, "/metrics"));
    }

    @Override
    public void close() throws InterruptedException {
      pilot.destroy();
      if (!pilot.waitFor(20, TimeUnit.SECONDS)) {
        pilot.destroyForcibly();
      }
    }
  }

  /** Pilot in this JVM on a memory registry and store changed directly: the push pipeline alone. */
  private final class InProcess implements Target {
    private final MemoryServiceRegistry registry = new MemoryServiceRegistry("load");
    private final MemoryConfigStore store = new MemoryConfigStore();
    private final Port http = new Port("http", 8080, Protocol.HTTP);
    private final PilotServer pilot;

    InProcess() throws Exception {
      for (int s = 0; s < services; s++) {
        Service service = service(s);
        registry.putService(service);
        registry.setInstances(service.hostname(), instances(service, s, 0));
      }
      for (int s = 0; s < services; s += 10) {
        store.put(rule(s, 90));
      }
      MeshSettings mesh = new MeshSettings("cluster.local", "", MeshSettings.defaultMeshConfig());
      pilot = PilotServer.start(new DiscoveryOptions("127.0.0.1", 0, "127.0.0.1", 0, List.of("memory"), "memory://",
          mesh, Duration.ofSeconds(1), DiscoveryOptions.DEFAULT_FILE_POLL_INTERVAL), PilotComponents.standard()
          .withRegistries((spec, m) -> registry)
          .withConfigStores((url, m) -> store));
      if (!pilot.awaitReady(Duration.ofMinutes(5))) {
        throw new IllegalStateException("pilot not ready: " + pilot.readiness().reason());
      }
    }

    private Service service(int s) {
      return Service.of(svc(s) + ".load.svc.cluster.local", "10.100." + s / 250 + "." + (s % 250 + 1), List.of(http));
    }

    private List<ServiceInstance> instances(Service service, int s, int generation) {
      int per = endpoints / services + (s < endpoints % services ? 1 : 0);
      List<ServiceInstance> out = new ArrayList<>();
      for (int i = 0; i < per; i++) {
        out.add(new ServiceInstance(new NetworkEndpoint(ip(s, i, generation), 8080, http), service,
            Labels.of("app", svc(s), "version", "v" + (i % 2 + 1)), null, null));
      }
      return out;
    }

    private Config rule(int s, int v1Weight) {
      RouteRule spec = RouteRule.newBuilder()
          .setDestination(IstioService.newBuilder().setName(svc(s)))
          .setPrecedence(1)
          .addRoute(DestinationWeight.newBuilder().putLabels("version", "v1").setWeight(v1Weight))
          .addRoute(DestinationWeight.newBuilder().putLabels("version", "v2").setWeight(100 - v1Weight))
          .build();
      return new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, svc(s) + "-split", "load"), spec);
    }

    @Override
    public int grpcPort() {
      return pilot.grpcPort();
    }

    @Override
    public void changeConfig(int round) {
      store.put(rule((round * 10) % services, 80 - round % 50));
    }

    @Override
    public void changeEndpoint(int round) {
      int e = (round * 7 + 1) % services;
      Service service = service(e);
      registry.setInstances(service.hostname(), instances(service, e, round + 1));
    }

    @Override
    public long heapAfterGc() {
      throw new UnsupportedOperationException("no heap figure in process: the clients share the heap");
    }

    @Override
    public double[] convergence() throws Exception {
      return LoadTestCommand.convergence(get(pilot.monitoringPort(), "/metrics"));
    }

    @Override
    public void close() throws InterruptedException {
      pilot.close();
    }
  }

  /** Milliseconds from the change to the slowest client's last response of the push it caused. */
  private double measure(List<LoadClient> streams, Change change) throws Exception {
    long[] before = new long[streams.size()];
    for (int i = 0; i < before.length; i++) {
      before[i] = streams.get(i).responses.get();
    }
    long t0 = System.nanoTime();
    change.run();
    long last = awaitQuiet(streams, before, Duration.ofSeconds(60));
    return round((last - t0) / 1e6);
  }

  private long awaitQuiet(List<LoadClient> streams, long atLeast, Duration timeout) throws Exception {
    long[] before = new long[streams.size()];
    Arrays.fill(before, atLeast);
    return awaitQuiet(streams, before, timeout);
  }

  /** Waits until every client has a response beyond {@code before} and none arrived for {@link #quiet}. */
  private long awaitQuiet(List<LoadClient> streams, long[] before, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      long last = 0;
      for (int i = 0; i < streams.size(); i++) {
        LoadClient c = streams.get(i);
        if (c.failure != null) {
          throw new IllegalStateException("client " + i + ": " + c.failure);
        }
        all &= c.responses.get() > before[i];
        last = Math.max(last, c.lastArrival.get());
      }
      if (all && System.nanoTime() - last > quiet.toNanos()) {
        return last;
      }
      Thread.sleep(10);
    }
    throw new IllegalStateException("not every client got a push within " + timeout);
  }

  private long heapAfterGc(long pid, int monitoring) throws Exception {
    Process jcmd = new ProcessBuilder("jcmd", String.valueOf(pid), "GC.run").redirectErrorStream(true).start();
    jcmd.getInputStream().readAllBytes();
    jcmd.waitFor(60, TimeUnit.SECONDS);
    String metrics = get(monitoring, "/metrics");
    Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"} (\\S+)$").matcher(metrics);
    if (!m.find()) {
      throw new IllegalStateException("no heap figure on /metrics");
    }
    return (long) Double.parseDouble(m.group(1));
  }

  private String serviceYaml(int s, int generation) {
    int per = endpoints / services + (s < endpoints % services ? 1 : 0);
    String name = svc(s);
    StringBuilder b = new StringBuilder();
    b.append("apiVersion: v1\nkind: Service\nmetadata: {name: ").append(name).append(", namespace: load}\n")
        .append("spec:\n  clusterIP: 10.100.").append(s / 250).append('.').append(s % 250 + 1)
        .append("\n  ports:\n  - {name: http, port: 8080, protocol: TCP, targetPort: 8080}\n  selector: {app: ")
        .append(name).append("}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: ").append(name)
        .append(", namespace: load}\nsubsets:\n- addresses:\n");
    for (int i = 0; i < per; i++) {
      b.append("  - ip: ").append(ip(s, i, generation)).append("\n    targetRef: {kind: Pod, namespace: load, name: ")
          .append(name).append('-').append(i).append("}\n");
    }
    b.append("  ports:\n  - {name: http, port: 8080, protocol: TCP}\n");
    for (int i = 0; i < per; i++) {
      b.append("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ").append(name).append('-').append(i)
          .append("\n  namespace: load\n  labels: {app: ").append(name).append(", version: v").append(i % 2 + 1)
          .append("}\nstatus: {phase: Running, podIP: ").append(ip(s, i, generation)).append("}\n");
    }
    return b.toString();
  }

  /** The endpoint's IP; the first endpoint of a service moves with each generation (an endpoint change). */
  private static String ip(int s, int i, int generation) {
    int n = s * 8 + i;
    int host = i == 0 ? (n + generation * 64) : n;
    return "10." + (i == 0 ? 150 + generation % 100 : 101) + "." + (host / 250 % 250) + "." + (host % 250 + 1);
  }

  private static String ruleYaml(int s, int v1Weight) {
    return "apiVersion: config.istio.io/v1alpha2\nkind: RouteRule\nmetadata: {name: " + svc(s) + "-split, namespace: load}\n"
        + "spec:\n  destination: {name: " + svc(s) + "}\n  precedence: 1\n  route:\n"
        + "  - labels: {version: v1}\n    weight: " + v1Weight + "\n  - labels: {version: v2}\n    weight: "
        + (100 - v1Weight) + "\n";
  }

  private static String svc(int s) {
    return String.format(Locale.ROOT, "svc-%04d", s);
  }

  /** Writes through a temporary file and a rename, so a watcher never reads half a file. */
  private static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private void awaitReady(int monitoring, Process pilot, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      if (!pilot.isAlive()) {
        throw new IllegalStateException("pilot exited " + pilot.exitValue() + ":\n" + Files.readString(log));
      }
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoring + "/readyz"))
            .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("pilot not ready after 5 minutes; log: " + log);
  }

  private String get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  @FunctionalInterface
  private interface Change {
    void run() throws Exception;
  }

  /**
   * One ADS stream that behaves like Envoy: wildcard clusters and listeners, then the endpoints and
   * routes they name (re-asked whenever those names change), every response ACKed at once.
   */
  static final class LoadClient implements AutoCloseable {
    private final Node node;
    private final ManagedChannel channel;
    private StreamObserver<DiscoveryRequest> requests;
    final AtomicLong responses = new AtomicLong();
    final AtomicLong lastArrival = new AtomicLong();
    private List<String> edsNames = List.of();
    private List<String> rdsNames = List.of();
    volatile String failure;

    LoadClient(ManagedChannel channel, Node node) {
      this.channel = channel;
      this.node = node;
    }

    void start() {
      requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
        @Override
        public void onNext(DiscoveryResponse r) {
          lastArrival.set(System.nanoTime());
          try {
            onResponse(r);
          } catch (InvalidProtocolBufferException | RuntimeException e) {
            failure = e.toString();
          }
          responses.incrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
          failure = "stream failed: " + t;
        }

        @Override
        public void onCompleted() {
          failure = "stream ended by the server";
        }
      });
      send(AdsClient.CLUSTER, List.of(), "", "");
      send(AdsClient.LISTENER, List.of(), "", "");
    }

    private synchronized void onResponse(DiscoveryResponse r) throws InvalidProtocolBufferException {
      String type = r.getTypeUrl();
      List<String> names = type.equals(AdsClient.ENDPOINT) ? edsNames : type.equals(AdsClient.ROUTE) ? rdsNames : List.of();
      send(type, names, r.getVersionInfo(), r.getNonce());
      if (type.equals(AdsClient.CLUSTER)) {
        List<String> eds = AdsClient.edsNames(r);
        if (!eds.equals(edsNames)) {
          edsNames = eds;
          send(AdsClient.ENDPOINT, eds, "", "");
        }
      } else if (type.equals(AdsClient.LISTENER)) {
        List<String> rds = AdsClient.rdsNames(r);
        if (!rds.equals(rdsNames)) {
          rdsNames = rds;
          send(AdsClient.ROUTE, rds, "", "");
        }
      }
    }

    private synchronized void send(String type, List<String> names, String version, String nonce) {
      requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type).addAllResourceNames(names)
          .setVersionInfo(version).setResponseNonce(nonce).build());
    }

    @Override
    public void close() {
      try {
        requests.onCompleted();
      } catch (RuntimeException e) {
        // already failed
      }
    }
  }
}
