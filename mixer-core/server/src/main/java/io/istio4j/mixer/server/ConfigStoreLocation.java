package io.istio4j.mixer.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** A parsed {@code --configStoreURL}. Only {@code fs://DIR} exists so far. */
record ConfigStoreLocation(Path directory) {

  static ConfigStoreLocation parse(String url) {
    if (!url.startsWith("fs://")) {
      throw new IllegalArgumentException("configStoreURL: " + url + " (expected: fs://DIR)");
    }
    Path dir = Path.of(url.substring("fs://".length()));
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "configStoreURL: " + url + ": " + dir.toAbsolutePath() + " is not a directory");
    }
    return new ConfigStoreLocation(dir);
  }

  /** The number of {@code .yaml}/{@code .yml} files under the directory. */
  long yamlFileCount() throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".yaml") || n.endsWith(".yml"))
          .count();
    }
  }
}
