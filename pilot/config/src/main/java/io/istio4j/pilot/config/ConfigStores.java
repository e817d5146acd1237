package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Opens the config store a {@code --configStoreURL} names:
 *
 * <ul>
 *   <li>{@code fs://DIR}: {@link FsConfigStore} on a directory ({@code fs:///etc/istio/config}
 *       absolute, {@code fs://config} relative to the working directory);
 *   <li>{@code k8s://}: {@link KubernetesConfigStore} on every namespace, with the client
 *       configuration fabric8 finds in the usual places ({@code KUBECONFIG}, {@code
 *       ~/.kube/config}, the in-cluster service account); {@code k8s://?namespace=NS} watches one
 *       namespace, {@code k8s://?kubeconfig=PATH} reads that kubeconfig (both may be combined with
 *       {@code &}).
 * </ul>
 *
 * <pre>{@code
 * ValidatingConfigStore store = ConfigStores.open("fs:///etc/istio/config");
 * store.addListener(xds::onConfigEvent);
 * store.start();
 * }</pre>
 */
public final class ConfigStores {
  private ConfigStores() {}

  /** Opens {@code url} with objects without a namespace in {@code default} and a 1 s poll. */
  public static ValidatingConfigStore open(String url) {
    return open(url, new ConfigParser(), Duration.ofSeconds(1));
  }

  /**
   * Opens {@code url}.
   *
   * @param parser the default namespace and domain suffix of the objects read
   * @param pollInterval how often {@code fs://} looks for changes
   * @throws IllegalArgumentException for a URL of another scheme, naming the ones supported
   */
  public static ValidatingConfigStore open(String url, ConfigParser parser, Duration pollInterval) {
    requireNonNull(url, "url");
    requireNonNull(parser, "parser");
    if (url.startsWith("fs://")) {
      String dir = url.substring("fs://".length());
      if (dir.isEmpty()) {
        throw new IllegalArgumentException("config store URL '" + url + "': no directory (expected: fs://DIR)");
      }
      return new FsConfigStore(Path.of(dir), parser, pollInterval);
    }
    if (url.equals("k8s://") || url.startsWith("k8s://?") || url.equals("k8s")) {
      Map<String, String> query = query(url, url.indexOf('?') < 0 ? "" : url.substring(url.indexOf('?') + 1));
      KubernetesClient client = client(url, query.get("kubeconfig"));
      return new KubernetesConfigStore(client, query.get("namespace"), parser, true);
    }
    throw new IllegalArgumentException("config store URL '" + url
        + "' is not supported (expected: fs://DIR, k8s://, k8s://?namespace=NS or k8s://?kubeconfig=PATH)");
  }

  private static Map<String, String> query(String url, String query) {
    Map<String, String> out = new LinkedHashMap<>();
    if (query.isEmpty()) {
      return out;
    }
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      String key = eq < 0 ? part : part.substring(0, eq);
      String value = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
      if (!key.equals("namespace") && !key.equals("kubeconfig")) {
        throw new IllegalArgumentException("config store URL '" + url + "': unknown parameter '" + key
            + "' (expected: namespace, kubeconfig)");
      }
      if (value.isEmpty()) {
        throw new IllegalArgumentException("config store URL '" + url + "': " + key + " needs a value");
      }
      if (key.equals("namespace") && !ConfigValidator.isDns1123Label(value)) {
        throw new IllegalArgumentException("config store URL '" + url + "': namespace '" + value
            + "' (expected: a DNS-1123 label)");
      }
      out.put(key, value);
    }
    return out;
  }

  private static KubernetesClient client(String url, String kubeconfig) {
    if (kubeconfig == null) {
      return new KubernetesClientBuilder().build();
    }
    try {
      Config config = Config.fromKubeconfig(null, Files.readString(Path.of(kubeconfig)), kubeconfig);
      return new KubernetesClientBuilder().withConfig(config).build();
    } catch (IOException e) {
      throw new UncheckedIOException("config store URL '" + url + "': cannot read kubeconfig " + kubeconfig, e);
    }
  }
}
