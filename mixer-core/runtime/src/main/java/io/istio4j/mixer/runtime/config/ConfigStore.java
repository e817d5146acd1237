package io.istio4j.mixer.runtime.config;

import java.io.IOException;
import java.util.List;
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

  /** Reads the content once, without watching. */
  Content read() throws IOException;

  /** Stops watching. */
  @Override
  void close();

  /**
   * A store's content: the objects it holds and the documents it could not read.
   *
   * @param objects the objects, in a stable order
   * @param problems documents that are not config objects, each with where and why
   */
  record Content(List<ConfigObject> objects, List<Problem> problems) {
    /** Copies the lists. */
    public Content {
      objects = List.copyOf(objects);
      problems = List.copyOf(problems);
    }
  }

  /**
   * A document that could not be read as a config object.
   *
   * @param source the file (and document number)
   * @param message what is wrong
   */
  record Problem(String source, String message) {
    @Override
    public String toString() {
      return source + ": " + message;
    }
  }
}
