package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.Config;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@link DirectoryValidator} found: every file, every document, and every problem.
 *
 * @param files the files read, in name order
 * @param duplicates one line per object defined more than once (the first definition counts)
 */
public record ValidationReport(List<ParsedFile> files, List<String> duplicates) {
  public ValidationReport {
    files = List.copyOf(requireNonNull(files, "files"));
    duplicates = List.copyOf(requireNonNull(duplicates, "duplicates"));
  }

  /** True when every file reads, every Pilot object is valid and none is defined twice. */
  public boolean valid() {
    return errors().isEmpty();
  }

  /** Every document of every readable file. */
  public List<ConfigDocument> documents() {
    List<ConfigDocument> out = new ArrayList<>();
    for (ParsedFile f : files) {
      out.addAll(f.documents());
    }
    return out;
  }

  /** The valid objects, including IngressRules (which stores do not hold). */
  public List<Config> configs() {
    List<Config> out = new ArrayList<>();
    for (ConfigDocument d : documents()) {
      if (d.status() == ConfigDocument.Status.VALID) {
        out.add(d.config());
      }
    }
    return out;
  }

  /**
   * One line per problem: {@code file:LINE:COL: not valid YAML: ...} for a file, {@code file:LINE:
   * route-rule default/reviews: spec.route[1].weight: ...} for an object.
   */
  public List<String> errors() {
    List<String> out = new ArrayList<>();
    for (ParsedFile f : files) {
      if (f.error() != null) {
        out.add(f.error());
      }
      for (ConfigDocument d : f.documents()) {
        if (d.status() == ConfigDocument.Status.INVALID) {
          out.addAll(List.of(d.describe().split("\n")));
        }
      }
    }
    out.addAll(duplicates);
    return out;
  }

  /** One line per document left alone because it is not Pilot config (for a verbose listing). */
  public List<String> ignored() {
    List<String> out = new ArrayList<>();
    for (ConfigDocument d : documents()) {
      if (d.status() == ConfigDocument.Status.IGNORED) {
        out.add(d.describe());
      }
    }
    return out;
  }
}
