package io.istio4j.mixer.runtime.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Where config objects live. A store hands out its whole content, first when started and then
 * after every change; the runtime works out what changed. Implementations: {@link FsStore}
 * ({@code fs://DIR}) and {@link MemoryStore}; a Kubernetes CRD store fits the same interface.
 */
public interface ConfigStore extends AutoCloseable {

  /**
   * Reads the store and starts watching it.
   *
   * @param onChange called with the new content after each change, on the store's thread
   * @return the content now
   */
  Content start(Consumer<Content> onChange) throws IOException;

  /**
   * Reads the store and starts watching it; {@code onFailure} learns of every failure to read the
   * store while watching (the store keeps watching, and the content in use stays).
   */
  default Content start(Consumer<Content> onChange, Consumer<Throwable> onFailure) throws IOException {
    return start(onChange);
  }

  /** Reads the content once, without watching. */
  Content read() throws IOException;

  /** Stops watching. */
  @Override
  void close();

  /**
   * A store's content: the objects it holds, the documents it could not read, and the files it
   * could not read at all (not YAML, unreadable, too large). The runtime keeps serving the last good
   * version of the objects an unreadable file held, and of an object whose document no longer
   * reads, instead of dropping them.
   *
   * @param objects the objects, in a stable order
   * @param problems documents that are not config objects, each with where and why
   * @param unreadableFiles the files (as in {@link ConfigObject#file()}) none of whose documents
   *     could be read
   */
  record Content(List<ConfigObject> objects, List<Problem> problems, Set<String> unreadableFiles) {
    /** Copies the lists. */
    public Content {
      objects = List.copyOf(objects);
      problems = List.copyOf(problems);
      unreadableFiles = Set.copyOf(unreadableFiles);
    }

    /** Content whose files could all be read. */
    public Content(List<ConfigObject> objects, List<Problem> problems) {
      this(objects, problems, Set.of());
    }
  }

  /**
   * A document (or a whole file) that could not be read as a config object.
   *
   * @param source the file (and document number)
   * @param message what is wrong
   * @param fqn the object the document seems to define ({@code name.kind.namespace}), when its
   *     kind and name could still be read; else ""
   */
  record Problem(String source, String message, String fqn) {
    /** Checks the parts. */
    public Problem {
      requireNonNull(source, "source");
      requireNonNull(message, "message");
      requireNonNull(fqn, "fqn");
    }

    /** A problem with no object identity. */
    public Problem(String source, String message) {
      this(source, message, "");
    }

    @Override
    public String toString() {
      return source + ": " + message;
    }
  }
}
