package io.istio4j.mixer.server;

import io.istio4j.adapter.FileOutputPolicy;
import io.istio4j.mixer.attribute.GoDuration;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Templates;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code mixs}: the Mixer server's command line. */
@Command(name = "mixs", mixinStandardHelpOptions = true, versionProvider = Mixs.Version.class,
    description = "Mixer server: policy checks, quota and telemetry for the service mesh.",
    subcommands = {Mixs.ServerCommand.class, ValidateCommand.class, InventoryCommand.class, CrdsCommand.class,
        ValidatorCommand.class,
        Mixs.VersionCommand.class})
public final class Mixs implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(Mixs.class);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    String refusal = rootRefusal(System.getenv("MIXS_REFUSE_ROOT"), Path.of("/proc/self/status"));
    if (refusal != null) {
      System.err.println(refusal);
      System.exit(2);
    }
    System.exit(commandLine().execute(args));
  }

  /**
   * The image sets {@code MIXS_REFUSE_ROOT=true}: run as root there (say {@code podman run --user 0},
   * or a pod without {@code runAsNonRoot}), mixs says so and stops instead of serving as root.
   *
   * @return the message, or null when mixs may run
   */
  static String rootRefusal(String refuseRoot, Path procStatus) {
    if (!"true".equals(refuseRoot)) {
      return null;
    }
    try {
      for (String line : Files.readAllLines(procStatus)) {
        // "Uid: real effective saved fs": refuse when the effective uid is 0.
        String[] f = line.split("\\s+");
        if (f[0].equals("Uid:") && f.length > 2 && f[2].equals("0")) {
          return "mixs: refusing to run as root (uid 0): this image runs as a non-root user (65532 unless "
              + "the build chose another); run it as that user, or set MIXS_REFUSE_ROOT=false to allow root";
        }
      }
    } catch (IOException e) {
      return null; // no /proc: not Linux, nothing to check
    }
    return null;
  }

  /**
   * Prints what {@code mixs inventory} prints for these templates and adapters (a Mixer build writes
   * it to its distribution's inventory.txt).
   */
  public static void printInventory(PrintStream out, Templates templates, Adapters adapters) {
    InventoryCommand.print(out, templates, adapters);
  }

  /**
   * The command line: {@code -V} prints the version on every subcommand (picocli gives a subcommand
   * no version of its own), and enum flag values match in any case ({@code --handlerFailurePolicy open}).
   */
  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Mixs());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    Version version = new Version();
    for (CommandLine sub : cl.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(version);
    }
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"mixs " + BuildInfo.version()};
    }
  }

  @Command(name = "version", description = "Prints the version.")
  static final class VersionCommand implements Runnable {
    @Override
    public void run() {
      System.out.println("mixs " + BuildInfo.version());
    }
  }

  @Command(name = "server", mixinStandardHelpOptions = true,
      description = "Starts Mixer: gRPC API on --port, self-monitoring HTTP on --monitoringPort.")
  static final class ServerCommand implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "9091",
        description = "gRPC API port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--address", defaultValue = "",
        description = "Host name or IP address the gRPC API listens on (default: all interfaces).")
    String address;

    @Option(names = "--monitoringPort", defaultValue = "9093",
        description = "HTTP port for /metrics, /healthz, /readyz and /version (default: ${DEFAULT-VALUE}).")
    int monitoringPort;

    @Option(names = "--monitoringAddress", defaultValue = "",
        description = "Host name or IP address the monitoring HTTP server listens on (default: all interfaces).")
    String monitoringAddress;

    @Option(names = {"--configStoreURL", "--configStore2URL"},
        description = "Config store: fs://DIR (a directory of .yaml files), k8s:// (custom resources; in a pod "
            + "through its service account) or k8s:///path/to/kubeconfig.")
    String configStoreUrl;

    @Option(names = "--configNamespace", paramLabel = "NS", split = ",",
        description = "With k8s://: a namespace to read config from; repeatable or comma-separated "
            + "(default: all namespaces).")
    List<String> configNamespaces = new ArrayList<>();

    @Option(names = "--configDefaultNamespace", defaultValue = "istio-system",
        description = "Namespace whose rules apply to every request (default: ${DEFAULT-VALUE}).")
    String configDefaultNamespace;

    @Option(names = "--maxMessageSize", defaultValue = "1048576",
        description = "Largest request accepted, in bytes (default: ${DEFAULT-VALUE}).")
    int maxMessageSize;

    @Option(names = "--maxConcurrentStreams", defaultValue = "1024",
        description = "Concurrent calls per client connection (default: ${DEFAULT-VALUE}).")
    int maxConcurrentStreams;

    @Option(names = "--configIdentityAttribute", defaultValue = "destination.service",
        description = "Attribute whose second dot-separated segment names the request's namespace "
            + "(default: ${DEFAULT-VALUE}).")
    String configIdentityAttribute;

    @Option(names = "--handlerTimeout", defaultValue = "1s", converter = DurationConverter.class,
        description = "Deadline of a call to a blocking handler (default: ${DEFAULT-VALUE}).")
    Duration handlerTimeout;

    @Option(names = "--handlerFailurePolicy", defaultValue = "CLOSED",
        description = "What Check answers when a handler fails or misses its deadline: CLOSED (INTERNAL) "
            + "or OPEN (OK); never cacheable either way (default: ${DEFAULT-VALUE}).")
    RuntimeOptions.FailurePolicy handlerFailurePolicy;

    @Option(names = "--adapterWorkerPoolSize", defaultValue = "64",
        description = "Threads for blocking handlers (default: ${DEFAULT-VALUE}).")
    int adapterWorkerPoolSize;

    @Option(names = "--configStrict",
        description = "Refuse to start while any config object is rejected, and keep the whole live config "
            + "while a change has any rejected object (default: an object's last good version stays in use "
            + "and the rest of the change applies).")
    boolean configStrict;

    @Option(names = "--streamIdleTimeout", defaultValue = "10s", converter = DurationConverter.class,
        description = "A call whose request has not fully arrived this long after its headers is closed "
            + "DEADLINE_EXCEEDED (default: ${DEFAULT-VALUE}).")
    Duration streamIdleTimeout;

    @Option(names = "--allowedOutputDir", paramLabel = "DIR",
        description = "A directory adapters may write files in (stdio's logStream FILE), and below it; "
            + "repeatable. None by default: no adapter writes any file.")
    List<Path> allowedOutputDirs = new ArrayList<>();

    @Option(names = "--exitWhenReady", hidden = true,
        description = "Start, then stop at once when ready (the build uses it to make a class-data archive).")
    boolean exitWhenReady;

    @Option(names = "--zipkinURL", paramLabel = "URL",
        description = "Trace Check and Report calls to this Zipkin span endpoint, e.g. "
            + "http://zipkin:9411/api/v2/spans; callers' B3 headers are honoured (default: no tracing).")
    String zipkinUrl;

    @Option(names = "--traceSampleRate", defaultValue = "1.0",
        description = "Share of calls traced when the caller sent no sampling decision, 0.0-1.0 "
            + "(default: ${DEFAULT-VALUE}); a caller's x-b3-sampled is always honoured.")
    float traceSampleRate;

    @Option(names = "--shutdownGracePeriod", defaultValue = "10s",
        converter = DurationConverter.class,
        description = "Time in-flight calls get to finish on SIGTERM (default: ${DEFAULT-VALUE}).")
    Duration shutdownGracePeriod;

    @Override
    public Integer call() throws Exception {
      ServerOptions options;
      MixerServer server;
      try {
        options = new ServerOptions(port, monitoringPort, withNamespaces(configStoreUrl, configNamespaces),
            configDefaultNamespace,
            maxMessageSize, maxConcurrentStreams, shutdownGracePeriod, streamIdleTimeout,
            new RuntimeOptions(configDefaultNamespace, configIdentityAttribute, handlerTimeout,
                handlerFailurePolicy, adapterWorkerPoolSize, configStrict
                    ? RuntimeOptions.ConfigPolicy.STRICT : RuntimeOptions.ConfigPolicy.LAST_KNOWN_GOOD,
                FileOutputPolicy.allowing(allowedOutputDirs)))
            .withAddress(address, port).withMonitoringAddress(monitoringAddress, monitoringPort);
        server = MixerServer.start(options, new TracingOptions(zipkinUrl, traceSampleRate));
      } catch (ConfigRejectedException e) {
        System.err.println("mixs: " + e.getMessage());
        return 1;
      } catch (IllegalArgumentException | IOException e) {
        System.err.println("mixs: " + e.getMessage());
        return 2;
      }
      if (exitWhenReady) {
        server.shutdownGracefully();
        return 0;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runnable stop = () -> {
        try {
          log.info("shutting down: finishing in-flight calls");
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
        Signal.handle(new Signal(sig), s -> new Thread(stop, "mixs-shutdown").start());
      }
      stopped.await();
      return 0;
    }
  }

  /**
   * {@code url} with {@code --configNamespace}'s namespaces in its query, where {@link
   * ConfigStoreLocation} reads them (so {@code k8s://?namespaces=a,b} works as well).
   */
  static String withNamespaces(String url, List<String> namespaces) {
    if (namespaces.isEmpty()) {
      return url;
    }
    if (url == null || !url.startsWith("k8s://")) {
      throw new IllegalArgumentException("configNamespace: " + namespaces + " (expected: only with a k8s:// "
          + "--configStoreURL; fs:// objects name their own namespaces)");
    }
    return url + (url.contains("?") ? "&" : "?") + "namespaces=" + String.join(",", namespaces);
  }

  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return GoDuration.parse(value);
    }
  }
}
