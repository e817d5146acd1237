package io.istio4j.pilot.config;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which files of a config directory are config: {@code .yaml}, {@code .yml} and {@code .json}
 * files at any depth (at most {@value #MAX_DEPTH}), skipping names that start with {@code .}.
 * Skipping dot-names reads a kubelet ConfigMap volume ({@code foo.yaml -> ..data/foo.yaml},
 * {@code ..data -> ..2026_12_03_...}) once, through its top-level links, and ignores editors' swap
 * and lock files. Links to files are followed; links to directories are not (no loops).
 */
final class ConfigFiles {
  static final int MAX_DEPTH = 8;

  private ConfigFiles() {}

  /** The config files under {@code dir}, by path relative to it, with their attributes. */
  static Map<String, BasicFileAttributes> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("config directory " + dir + " does not exist or is not a directory");
    }
    Map<String, BasicFileAttributes> out = new TreeMap<>();
    walk(dir, dir, 0, out);
    return out;
  }

  private static void walk(Path root, Path d, int depth, Map<String, BasicFileAttributes> into) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(d)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (name.startsWith(".")) {
          continue;
        }
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class); // follows a link to its target
        } catch (IOException e) {
          continue; // vanished while listing, or a dangling link
        }
        if (a.isDirectory()) {
          if (depth < MAX_DEPTH && !Files.isSymbolicLink(p)) {
            walk(root, p, depth + 1, into);
          }
        } else if (a.isRegularFile() && isConfigFile(name)) {
          into.put(root.relativize(p).toString(), a);
        }
      }
    }
  }

  static boolean isConfigFile(String name) {
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }
}
