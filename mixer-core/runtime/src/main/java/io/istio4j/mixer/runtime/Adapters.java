package io.istio4j.mixer.runtime;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The adapters compiled into this Mixer: every {@link Adapter} ServiceLoader finds, each checked
 * against the templates of the build.
 *
 * <pre>{@code
 * Adapters adapters = Adapters.load(loader, templates);
 * AdapterInfo denier = adapters.get("denier").orElseThrow();
 * }</pre>
 */
public final class Adapters {

  private final Map<String, AdapterInfo> byName;

  private Adapters(Map<String, AdapterInfo> byName) {
    this.byName = Collections.unmodifiableMap(byName);
  }

  /**
   * Finds the adapters on {@code loader}'s class path. Two adapters with one name, a name that is
   * also a template's, or a supported template missing from {@code templates} are errors.
   */
  public static Adapters load(ClassLoader loader, Templates templates) {
    Map<String, AdapterInfo> byName = new TreeMap<>();
    for (Adapter adapter : ServiceLoader.load(Adapter.class, loader)) {
      add(byName, adapter, templates);
    }
    return new Adapters(byName);
  }

  /** Only the given adapters, for tests; checked as {@link #load} checks. */
  public static Adapters of(Templates templates, Adapter... adapters) {
    Map<String, AdapterInfo> byName = new TreeMap<>();
    for (Adapter a : adapters) {
      add(byName, a, templates);
    }
    return new Adapters(byName);
  }

  private static void add(Map<String, AdapterInfo> byName, Adapter adapter, Templates templates) {
    AdapterInfo info = adapter.info();
    AdapterInfo previous = byName.putIfAbsent(info.name(), info);
    if (previous != null) {
      throw new IllegalStateException("adapter '" + info.name() + "' is defined twice (second: "
          + adapter.getClass().getName() + ")");
    }
    if (templates.get(info.name()).isPresent()) {
      throw new IllegalStateException("adapter '" + info.name()
          + "' has the name of a template; config kinds must be unique");
    }
    for (String t : info.supportedTemplates()) {
      if (templates.get(t).isEmpty()) {
        throw new IllegalStateException("adapter '" + info.name() + "' supports template '" + t
            + "', which is not in this build");
      }
    }
  }

  /** The adapter named {@code name}, the kind of its handlers. */
  public Optional<AdapterInfo> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** All adapters, by name. */
  public Collection<AdapterInfo> all() {
    return byName.values();
  }
}
