package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a config directory (or one file) the way {@code fs://DIR} would load it and reports every
 * problem at once: the check behind {@code pilot-discovery validate DIR}, for operators' CI.
 *
 * <pre>{@code
 * ValidationReport r = new DirectoryValidator(new ConfigParser()).validate(Path.of("config"));
 * r.errors().forEach(System.err::println);
 * }</pre>
 */
public final class DirectoryValidator {
  private final ConfigParser parser;

  public DirectoryValidator(ConfigParser parser) {
    this.parser = requireNonNull(parser, "parser");
  }

  /**
   * Reads every config file under {@code path} ({@code .yaml}, {@code .yml}, {@code .json}; dot-names
   * skipped), or {@code path} itself when it is a file.
   *
   * @throws IOException if {@code path} cannot be listed
   */
  public ValidationReport validate(Path path) throws IOException {
    requireNonNull(path, "path");
    List<ParsedFile> files = new ArrayList<>();
    if (Files.isRegularFile(path)) {
      files.add(read(path, path.toString()));
    } else {
      for (String name : ConfigFiles.list(path).keySet()) {
        files.add(read(path.resolve(name), name));
      }
    }
    return new ValidationReport(files, duplicates(files));
  }

  private ParsedFile read(Path file, String name) {
    try {
      ParsedFile f = parser.read(file);
      return new ParsedFile(name, f.error() == null ? null : f.error().replace(file.toString(), name),
          rename(f.documents(), file.toString(), name));
    } catch (IOException e) {
      return new ParsedFile(name, name + ": cannot be read: " + e.getMessage(), List.of());
    }
  }

  private static List<ConfigDocument> rename(List<ConfigDocument> docs, String from, String to) {
    if (from.equals(to)) {
      return docs;
    }
    List<ConfigDocument> out = new ArrayList<>();
    for (ConfigDocument d : docs) {
      String source = d.source().startsWith(from) ? to + d.source().substring(from.length()) : d.source();
      out.add(new ConfigDocument(source, d.apiVersion(), d.kubernetesKind(), d.kind(), d.namespace(), d.name(),
          d.config(), d.errors(), d.status()));
    }
    return out;
  }

  /** Objects defined more than once (a store uses the first, in file order). */
  static List<String> duplicates(List<ParsedFile> files) {
    Map<String, String> first = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (ParsedFile f : files) {
      for (ConfigDocument d : f.documents()) {
        if (d.status() == ConfigDocument.Status.IGNORED || !d.hasIdentity()) {
          continue;
        }
        String where = first.putIfAbsent(d.key(), d.source());
        if (where != null) {
          out.add(d.source() + ": " + d.objectName() + ": defined again (first at " + where + "; that one is used)");
        }
      }
    }
    return out;
  }
}
