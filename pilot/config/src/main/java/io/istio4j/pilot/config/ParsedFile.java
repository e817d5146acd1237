package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.TlsSecret;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A file as read: its documents, or why none could be read.
 *
 * @param source the file's name as given
 * @param error why the file as a whole cannot be read ({@code file:LINE:COL: not valid YAML: ...},
 *     too large, not text), or null; then {@code documents} is empty
 * @param documents the documents, in file order ({@code kind: List} expanded to its items)
 * @param secrets the valid {@code kubernetes.io/tls} Secrets of the file, in file order (an invalid
 *     one is an invalid document)
 */
public record ParsedFile(String source, @Nullable String error, List<ConfigDocument> documents, List<TlsSecret> secrets) {
  public ParsedFile {
    requireNonNull(source, "source");
    documents = List.copyOf(requireNonNull(documents, "documents"));
    secrets = List.copyOf(requireNonNull(secrets, "secrets"));
  }

  /** A file without Secrets. */
  public ParsedFile(String source, @Nullable String error, List<ConfigDocument> documents) {
    this(source, error, documents, List.of());
  }

  /** True when the file could be read (whether or not each object is valid). */
  public boolean readable() {
    return error == null;
  }
}
