package io.istio4j.mixer.runtime.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Config held in memory, for tests and the adapter test kit: {@link #set} replaces the content and
 * notifies the runtime at once.
 */
public final class MemoryStore implements ConfigStore {

  private final String defaultNamespace;
  private volatile Content content = new Content(List.of(), List.of());
  private volatile Consumer<Content> listener;

  /** An empty store; objects that name no namespace get {@code defaultNamespace}. */
  public MemoryStore(String defaultNamespace) {
    this.defaultNamespace = defaultNamespace;
  }

  /** Replaces the content with the documents of {@code yaml} and notifies the runtime. */
  public void setYaml(String yaml) {
    List<ConfigObject> objects = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    boolean read = YamlDocuments.parse("memory", yaml, defaultNamespace, objects, problems);
    set(new Content(objects, problems, read ? Set.of() : Set.of("memory")));
  }

  /** Replaces the content and notifies the runtime. */
  public void set(Content newContent) {
    content = newContent;
    Consumer<Content> l = listener;
    if (l != null) {
      l.accept(newContent);
    }
  }

  @Override
  public Content start(Consumer<Content> onChange) {
    listener = onChange;
    return content;
  }

  @Override
  public Content read() {
    return content;
  }

  @Override
  public void close() {
    listener = null;
  }
}
