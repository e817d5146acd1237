package io.istio4j.mixer.server;

import io.istio4j.mixer.server.kubernetes.KubernetesLocation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code --configStoreURL}: {@code fs://DIR} or {@code k8s://[/path/to/kubeconfig]}.
 *
 * @param url the URL as given
 * @param directory the directory of {@code fs://}, else null
 * @param kubernetes the location of {@code k8s://}, else null
 */
record ConfigStoreLocation(String url, @Nullable Path directory, @Nullable KubernetesLocation kubernetes) {

  static ConfigStoreLocation parse(String url) {
    return parse(url, List.of());
  }

  /** {@code namespaces}: {@code --configNamespace}, which only {@code k8s://} takes. */
  static ConfigStoreLocation parse(String url, List<String> namespaces) {
    if (url.startsWith(KubernetesLocation.SCHEME)) {
      return new ConfigStoreLocation(url, null, KubernetesLocation.parse(url, namespaces));
    }
    if (!url.startsWith("fs://")) {
      throw new IllegalArgumentException("configStoreURL: " + url
          + " (expected: fs://DIR, k8s:// or k8s:///path/to/kubeconfig)");
    }
    if (!namespaces.isEmpty()) {
      throw new IllegalArgumentException("configNamespace: " + namespaces
          + " (expected: none with fs://, whose objects name their own namespaces)");
    }
    Path dir = Path.of(url.substring("fs://".length()));
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "configStoreURL: " + url + ": " + dir.toAbsolutePath() + " is not a directory");
    }
    return new ConfigStoreLocation(url, dir, null);
  }

  /** For the start-up log line: how many files, or which API server. */
  String describe() throws IOException {
    if (directory == null) {
      return "Kubernetes custom resources";
    }
    try (Stream<Path> files = Files.walk(directory)) {
      long n = files.filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(name -> name.endsWith(".yaml") || name.endsWith(".yml"))
          .count();
      return n + " yaml file(s)";
    }
  }
}
