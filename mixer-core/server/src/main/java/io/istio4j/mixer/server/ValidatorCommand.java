package io.istio4j.mixer.server;

import io.istio4j.http.WebhookServer;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.FsStore;
import io.istio4j.mixer.server.kubernetes.AdmissionReviewer;
import io.istio4j.mixer.server.kubernetes.KubernetesLocation;
import io.istio4j.mixer.server.kubernetes.KubernetesStore;
import io.istio4j.mixer.server.kubernetes.MixerKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code mixs validator}: the validating admission webhook. Follows the config in {@code
 * --configStoreURL} (normally {@code k8s://}, the cluster the webhook guards) and answers {@code
 * admission.k8s.io/v1} AdmissionReviews on {@code POST /validate} over HTTPS, refusing a Mixer
 * config object that {@code mixs validate} would reject, with the same message.
 */
@Command(name = "validator", mixinStandardHelpOptions = true,
    description = "Validating admission webhook for Mixer's config kinds (HTTPS, POST /validate).")
final class ValidatorCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(ValidatorCommand.class);

  @Option(names = "--tlsCert", required = true, paramLabel = "FILE",
      description = "PEM certificate chain the webhook serves (its names must match the webhook Service).")
  Path tlsCert;

  @Option(names = "--tlsKey", required = true, paramLabel = "FILE",
      description = "PEM private key of --tlsCert (PKCS#8, or PKCS#1 RSA).")
  Path tlsKey;

  @Option(names = "--port", defaultValue = "9443", description = "HTTPS port (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--address", defaultValue = "",
      description = "Host name or IP address to listen on (default: all interfaces).")
  String address;

  @Option(names = {"--configStoreURL", "--configStore2URL"}, required = true,
      description = "The config the webhook validates against: k8s://, k8s:///path/to/kubeconfig or fs://DIR.")
  String configStoreUrl;

  @Option(names = "--configNamespace", paramLabel = "NS", split = ",",
      description = "With k8s://: a namespace to read config from; repeatable (default: all namespaces).")
  List<String> configNamespaces = new ArrayList<>();

  @Option(names = "--configDefaultNamespace", defaultValue = "istio-system",
      description = "Namespace whose rules apply to every request (default: ${DEFAULT-VALUE}).")
  String configDefaultNamespace;

  @Option(names = "--maxRequestBytes", defaultValue = "3145728",
      description = "Largest AdmissionReview accepted, in bytes (default: ${DEFAULT-VALUE}).")
  int maxRequestBytes;

  @Override
  public Integer call() throws Exception {
    Validator validator;
    try {
      validator = Validator.start(WebhookServer.Options.of(address, port, tlsCert, tlsKey)
              .withMaxRequestBytes(maxRequestBytes),
          ConfigStoreLocation.parse(configStoreUrl, configNamespaces), configDefaultNamespace);
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("mixs validator: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    for (String sig : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(sig), s -> {
        validator.close();
        stopped.countDown();
      });
    }
    stopped.await();
    return 0;
  }

  /** A running webhook: the config store it follows and its HTTPS server. */
  /** The validator's webhook: its name in logs, its port flag and {@code POST /validate}. */
  static final WebhookServer.Endpoint VALIDATOR =
      new WebhookServer.Endpoint("validator", "validator --port", "/validate");

  static final class Validator implements AutoCloseable {
    private final ConfigStore store;
    private final WebhookServer server;

    private Validator(ConfigStore store, WebhookServer server) {
      this.store = store;
      this.server = server;
    }

    /** Reads the config (the first list of a k8s:// store included), then serves. */
    static Validator start(WebhookServer.Options options, ConfigStoreLocation location, String defaultNamespace)
        throws IOException {
      ClassLoader loader = ValidatorCommand.class.getClassLoader();
      Templates templates = Templates.load(loader);
      Adapters adapters = Adapters.load(loader, templates);
      ConfigStore store;
      KubernetesLocation k8s = location.kubernetes();
      if (k8s != null) {
        store = new KubernetesStore(k8s.client(), true, MixerKind.of(templates, adapters),
            k8s.storeOptions(defaultNamespace));
      } else {
        store = new FsStore(location.directory(), defaultNamespace, Duration.ofMillis(250));
      }
      AtomicReference<ConfigStore.Content> current = new AtomicReference<>();
      try {
        current.set(store.start(current::set));
        AdmissionReviewer reviewer = new AdmissionReviewer(templates, adapters,
            RuntimeOptions.DEFAULTS.withDefaultNamespace(defaultNamespace), current::get, Clock.systemUTC());
        WebhookServer server = WebhookServer.start(VALIDATOR, options, reviewer,
            () -> new WebhookServer.Readiness(true, "config from " + location.url() + ": "
                + current.get().objects().size() + " object(s)"));
        log.info("mixs validator {} serving HTTPS on port {}, validating against {} ({} objects)", BuildInfo.version(),
            server.port(), location.url(), current.get().objects().size());
        return new Validator(store, server);
      } catch (IOException | RuntimeException e) {
        store.close();
        throw e;
      }
    }

    int port() {
      return server.port();
    }

    @Override
    public void close() {
      server.close();
      store.close();
    }
  }
}
