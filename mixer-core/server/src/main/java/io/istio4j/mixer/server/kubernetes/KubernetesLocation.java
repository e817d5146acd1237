package io.istio4j.mixer.server.kubernetes;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.istio4j.mixer.attribute.GoDuration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code k8s://} config store URL: {@code k8s://} (in a pod, its service account;
 * elsewhere fabric8's usual search: {@code KUBECONFIG}, {@code ~/.kube/config}) or {@code
 * k8s:///path/to/kubeconfig}, optionally followed by {@code ?namespaces=a,b} (default: all),
 * {@code &resync=5m} and {@code &missingCrdGrace=60s} (how long start waits for a kind whose CRD
 * the API server does not have).
 *
 * @param kubeconfig the kubeconfig file, or null for fabric8's auto-configuration
 * @param namespaces the namespaces to watch; empty for all
 * @param resync how often informers replay their caches; null for the store's default
 * @param missingCrdGrace how long start waits for a kind whose CRD is missing; null for the store's default
 */
public record KubernetesLocation(@Nullable Path kubeconfig, List<String> namespaces, @Nullable Duration resync,
    @Nullable Duration missingCrdGrace) {

  /** The scheme. */
  public static final String SCHEME = "k8s://";
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  /** Checks and copies the parts. */
  public KubernetesLocation {
    namespaces = List.copyOf(requireNonNull(namespaces, "namespaces"));
  }

  /**
   * Parses {@code url}; {@code extraNamespaces} ({@code --configNamespace}) add to the URL's.
   *
   * @throws IllegalArgumentException naming the part that is wrong and what was expected
   */
  public static KubernetesLocation parse(String url, List<String> extraNamespaces) {
    if (!url.startsWith(SCHEME)) {
      throw new IllegalArgumentException("configStoreURL: " + url + " (expected: k8s:// or k8s:///path/to/kubeconfig)");
    }
    String rest = url.substring(SCHEME.length());
    String query = "";
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    Path kubeconfig = null;
    if (!rest.isEmpty()) {
      kubeconfig = Path.of(rest);
      if (!Files.isRegularFile(kubeconfig)) {
        throw new IllegalArgumentException("configStoreURL: " + url + ": kubeconfig " + kubeconfig.toAbsolutePath()
            + " is not a file");
      }
      try {
        Config.fromKubeconfig(kubeconfig.toFile()); // read now: a broken file is a start-up error, not a hang
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("configStoreURL: " + url + ": kubeconfig " + kubeconfig.toAbsolutePath()
            + " cannot be read: " + e.getMessage(), e);
      }
    }
    List<String> namespaces = new ArrayList<>();
    Duration resync = null;
    Duration missingCrdGrace = null;
    for (String param : query.split("&")) {
      if (param.isEmpty()) {
        continue;
      }
      int eq = param.indexOf('=');
      String key = eq < 0 ? param : param.substring(0, eq);
      String value = eq < 0 ? "" : param.substring(eq + 1);
      switch (key) {
        case "namespaces", "namespace" -> namespaces.addAll(List.of(value.split(",")));
        case "resync" -> resync = duration(url, key, value);
        case "missingCrdGrace" -> missingCrdGrace = duration(url, key, value);
        default -> throw new IllegalArgumentException("configStoreURL: " + url + ": unknown parameter '" + key
            + "' (expected: namespaces, resync, missingCrdGrace)");
      }
    }
    for (String ns : extraNamespaces) {
      namespaces.addAll(List.of(ns.split(",")));
    }
    List<String> clean = new ArrayList<>();
    for (String ns : namespaces) {
      String n = ns.strip();
      if (n.isEmpty() || clean.contains(n)) {
        continue;
      }
      if (!DNS_LABEL.matcher(n).matches()) {
        throw new IllegalArgumentException("config namespace '" + n + "' (expected: a DNS label such as istio-system)");
      }
      clean.add(n);
    }
    return new KubernetesLocation(kubeconfig, clean, resync, missingCrdGrace);
  }

  private static Duration duration(String url, String key, String value) {
    Duration d;
    try {
      d = GoDuration.parse(value);
    } catch (RuntimeException e) {
      d = null;
    }
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException("configStoreURL: " + url + ": " + key + " '" + value
          + "' (expected: a duration such as 5m)");
    }
    return d;
  }

  /** A client for the API server this location names. */
  public KubernetesClient client() throws IOException {
    Config config = kubeconfig == null ? Config.autoConfigure(null)
        : Config.fromKubeconfig(kubeconfig.toFile());
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** The store's options for this location. */
  public KubernetesStore.Options storeOptions(String defaultNamespace) {
    KubernetesStore.Options o = KubernetesStore.Options.defaults(defaultNamespace).withNamespaces(namespaces);
    return new KubernetesStore.Options(o.namespaces(), o.defaultNamespace(), o.batch(),
        resync == null ? o.resync() : resync, missingCrdGrace == null ? o.missingKindGrace() : missingCrdGrace);
  }
}
