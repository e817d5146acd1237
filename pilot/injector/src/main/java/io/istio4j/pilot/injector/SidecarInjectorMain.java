package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.discovery.MeshSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sidecar-injector}: {@code serve} runs the mutating admission webhook; {@code kube-inject}
 * injects YAML offline, as {@code istioctl kube-inject}; {@code template} prints the default
 * sidecar template.
 *
 * <p>Exit codes: 0 success, 1 input that cannot be injected, 2 usage errors (bad flags or files,
 * a port that cannot be bound).
 */
@Command(name = "sidecar-injector", mixinStandardHelpOptions = true,
    versionProvider = SidecarInjectorMain.Version.class,
    description = "Istio sidecar injection: a Kubernetes mutating admission webhook, and offline kube-inject.",
    subcommands = {SidecarInjectorMain.Serve.class, SidecarInjectorMain.Inject.class,
        SidecarInjectorMain.Template.class})
public final class SidecarInjectorMain implements Runnable {

  private static final Logger log = LoggerFactory.getLogger(SidecarInjectorMain.class);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new SidecarInjectorMain());
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof IOException) {
        // System.err, where kube-inject reports too: one stream for everything the operator reads.
        System.err.println("sidecar-injector: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = SidecarInjectorMain.class.getPackage().getImplementationVersion();
      return new String[] {"sidecar-injector " + (v == null ? "dev" : v)};
    }
  }

  /** What both modes need: the injector's config, the mesh config and the template. */
  static class InjectorOptions {
    @Option(names = "--meshConfig", paramLabel = "FILE",
        description = "The mesh config (YAML, as pilot-discovery reads it); upstream's defaults when absent.")
    @Nullable Path meshConfig;

    @Option(names = "--injectConfig", paramLabel = "FILE",
        description = "The injector's config: policy, namespaces, excludeNamespaces, params (upstream's shape).")
    @Nullable Path injectConfig;

    @Option(names = "--template", paramLabel = "FILE",
        description = "The sidecar template; the built-in one (sidecar-injector template prints it) when absent.")
    @Nullable Path template;

    @Option(names = "--istioNamespace", defaultValue = "istio-system",
        description = "Istio's own namespace, never injected, like kube-system and kube-public (default: ${DEFAULT-VALUE}).")
    String istioNamespace;

    SidecarInjector injector() {
      InjectorConfig config = InjectorConfig.load(injectConfig)
          .withIgnoredNamespaces(InjectorConfig.systemNamespaces(istioNamespace));
      MeshConfig mesh = MeshSettings.loadMeshConfig(meshConfig);
      SidecarTemplate t = template == null ? SidecarTemplate.defaultTemplate() : SidecarTemplate.load(template);
      return new SidecarInjector(config, mesh, t);
    }
  }

  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = "Serves the mutating admission webhook: POST /inject over HTTPS, /healthz, /readyz.")
  static final class Serve extends InjectorOptions implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "", description = "The address to listen on; all when empty.")
    String host;

    @Option(names = "--port", defaultValue = "443", description = "The HTTPS port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--tlsCertFile", required = true, paramLabel = "FILE",
        description = "The serving certificate chain (PEM); read again when it changes.")
    Path certFile;

    @Option(names = "--tlsKeyFile", required = true, paramLabel = "FILE", description = "The serving key (PEM).")
    Path keyFile;

    @Option(names = "--maxRequestBytes", defaultValue = "3145728",
        description = "The largest AdmissionReview accepted (default: ${DEFAULT-VALUE}, the API server's own limit).")
    int maxRequestBytes;

    @Option(names = "--maxConnections", defaultValue = "32",
        description = "Open connections allowed; more are closed at once (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--namespacePolicy", paramLabel = "NAMESPACE=enabled|disabled",
        description = "A namespace's policy, as its istio-injection label would say (repeatable).")
    Map<String, String> namespacePolicies = new HashMap<>();

    @Option(names = "--watchNamespaces", defaultValue = "false",
        description = "Read namespaces' istio-injection labels from the Kubernetes API (kubeconfig or in-cluster "
            + "account; needs list and watch on namespaces). --namespacePolicy wins for the namespaces it names.")
    boolean watchNamespaces;

    @Override
    public Integer call() throws Exception {
      SidecarInjector injector = injector();
      Map<String, Map<String, String>> labels = new HashMap<>();
      namespacePolicies.forEach((ns, policy) -> {
        if (InjectionPolicy.parse(policy) == null) {
          throw new IllegalArgumentException("--namespacePolicy " + ns + "=" + policy
              + " (expected: enabled or disabled)");
        }
        labels.put(ns, Map.of(SidecarInjector.NAMESPACE_LABEL, policy));
      });
      NamespaceLabels flags = NamespaceLabels.of(labels);
      KubernetesClient client = null;
      KubernetesNamespaceLabels watched = null;
      NamespaceLabels namespaces = flags;
      if (watchNamespaces) {
        client = new KubernetesClientBuilder().build();
        watched = KubernetesNamespaceLabels.start(client, Duration.ofSeconds(60));
        KubernetesNamespaceLabels w = watched;
        namespaces = ns -> labels.containsKey(ns) ? labels.get(ns) : w.labels(ns);
      }
      AdmissionHandler handler = new AdmissionHandler(injector, namespaces);
      InjectorServer.Options options = InjectorServer.Options.of(host, port, certFile, keyFile)
          .withMaxRequestBytes(maxRequestBytes).withMaxConnections(maxConnections);
      CountDownLatch stop = new CountDownLatch(1);
      CountDownLatch stopped = new CountDownLatch(1);
      try (InjectorServer server = InjectorServer.start(options, handler)) {
        log.info("sidecar-injector: serving AdmissionReviews on https port {} (POST /inject); policy {}",
            server.port(), injector.config().policy().label());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          stop.countDown();
          try {
            // The JVM halts when the hooks return: let the server close and the last line be logged.
            stopped.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }, "injector-shutdown"));
        stop.await();
        AdmissionHandler.Counts counts = handler.counts();
        log.info("sidecar-injector: stopping; {} pods injected, {} left alone, {} refused", counts.injected(),
            counts.skipped(), counts.refused());
      } finally {
        if (watched != null) {
          watched.close();
        }
        if (client != null) {
          client.close();
        }
        stopped.countDown();
      }
      return 0;
    }
  }

  @Command(name = "kube-inject", mixinStandardHelpOptions = true,
      description = "Injects the sidecar into the workloads in a YAML file, as istioctl kube-inject did.")
  static final class Inject extends InjectorOptions implements Callable<Integer> {
    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
        description = "The input YAML ('-' for standard input).")
    String input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write; standard output when absent.")
    @Nullable Path output;

    @Option(names = {"-n", "--namespace"}, defaultValue = "default",
        description = "The namespace of objects that name none (default: ${DEFAULT-VALUE}).")
    String namespace;

    @Override
    public Integer call() throws Exception {
      SidecarInjector injector = injector();
      String text;
      try {
        text = input.equals("-") ? new String(System.in.readAllBytes(), UTF_8) : Files.readString(Path.of(input));
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException("-f " + input + ": no such file", e);
      } catch (IOException e) {
        throw new IllegalArgumentException("-f " + input + ": cannot read it: " + e.getMessage(), e);
      }
      List<KubeInject.Outcome> outcomes = new ArrayList<>();
      String out;
      try {
        out = new KubeInject(injector, namespace).inject(text, outcomes);
      } catch (IllegalArgumentException e) {
        System.err.println("sidecar-injector kube-inject: " + input + ": " + e.getMessage());
        return 1;
      }
      PrintStream err = System.err;
      for (KubeInject.Outcome o : outcomes) {
        err.println((o.decision().inject() ? "injected " : "skipped  ") + o.kind() + " " + o.name() + ": "
            + o.decision().reason());
      }
      if (output == null) {
        System.out.print(out);
        System.out.flush();
      } else {
        Files.writeString(output, out);
      }
      return 0;
    }
  }

  @Command(name = "template", mixinStandardHelpOptions = true,
      description = "Prints the built-in sidecar template, to copy and change.")
  static final class Template implements Runnable {
    @Override
    public void run() {
      System.out.print(SidecarTemplate.defaultTemplate().source());
    }
  }

  private SidecarInjectorMain() {}
}
