package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A file as read: its documents, or why none could be read.
 *
 * @param source the file's name as given
 * @param error why the file as a whole cannot be read ({@code file:LINE:COL: not valid YAML: ...},
 *     too large, not text), or null; then {@code documents} is empty
 * @param documents the documents, in file order ({@code kind: List} expanded to its items)
 */
public record ParsedFile(String source, @Nullable String error, List<ConfigDocument> documents) {
  public ParsedFile {
    requireNonNull(source, "source");
    documents = List.copyOf(requireNonNull(documents, "documents"));
  }

  /** True when the file could be read (whether or not each object is valid). */
  public boolean readable() {
    return error == null;
  }
}
