package io.istio4j.mixer.runtime;

import io.istio4j.adapter.template.Template;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The templates compiled into this Mixer: every {@link Template} ServiceLoader finds.
 *
 * <pre>{@code
 * Templates templates = Templates.load(Mixs.class.getClassLoader());
 * Template metric = templates.get("metric").orElseThrow();
 * }</pre>
 */
public final class Templates {

  private final Map<String, Template> byName;

  private Templates(Map<String, Template> byName) {
    this.byName = Collections.unmodifiableMap(byName);
  }

  /** Finds the templates on {@code loader}'s class path; two with one name are an error. */
  public static Templates load(ClassLoader loader) {
    Map<String, Template> byName = new TreeMap<>();
    for (Template t : ServiceLoader.load(Template.class, loader)) {
      Template previous = byName.putIfAbsent(t.name(), t);
      if (previous != null) {
        throw new IllegalStateException("template '" + t.name() + "' is defined twice: by "
            + previous.getClass().getName() + " and " + t.getClass().getName());
      }
    }
    return new Templates(byName);
  }

  /** Only the given templates, for tests. */
  public static Templates of(Template... templates) {
    Map<String, Template> byName = new TreeMap<>();
    for (Template t : templates) {
      byName.put(t.name(), t);
    }
    return new Templates(byName);
  }

  /** The template named {@code name}, the kind of its instances. */
  public Optional<Template> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** All templates, by name. */
  public Collection<Template> all() {
    return byName.values();
  }
}
