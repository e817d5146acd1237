package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.EventType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The objects a watching store currently serves, and its listeners. A write that changes nothing
 * but the resource version (a re-read file, a Kubernetes resync or status update) replaces the
 * object silently: listeners hear only of real changes. Listeners run on the writing thread,
 * after the change is visible to readers.
 */
final class ConfigCache {
  private static final Logger log = LoggerFactory.getLogger(ConfigCache.class);

  private final TreeMap<String, Config> objects = new TreeMap<>();
  private final List<Consumer<ConfigEvent>> listeners = new CopyOnWriteArrayList<>();

  void addListener(Consumer<ConfigEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  synchronized Optional<Config> get(ConfigKind kind, String name, String namespace) {
    return Optional.ofNullable(objects.get(ConfigMeta.of(kind, name, namespace).key()));
  }

  synchronized Optional<Config> get(String key) {
    return Optional.ofNullable(objects.get(key));
  }

  synchronized List<Config> list(ConfigKind kind, String namespace) {
    String prefix = kind.type() + "/" + (namespace.isEmpty() ? "" : namespace + "/");
    List<Config> out = new ArrayList<>();
    for (Map.Entry<String, Config> e : objects.tailMap(prefix, true).entrySet()) {
      if (!e.getKey().startsWith(prefix)) {
        break;
      }
      out.add(e.getValue());
    }
    return out;
  }

  synchronized List<String> keys() {
    return new ArrayList<>(objects.keySet());
  }

  synchronized int size() {
    return objects.size();
  }

  /** Stores {@code config}; tells listeners when it is new or its content changed. */
  void put(Config config) {
    EventType type;
    synchronized (this) {
      Config old = objects.put(config.key(), config);
      if (old != null && sameContent(old, config)) {
        return;
      }
      type = old == null ? EventType.ADD : EventType.UPDATE;
    }
    fire(new ConfigEvent(type, config));
  }

  /** Removes an object; tells listeners when it was there. */
  void remove(String key) {
    Config old;
    synchronized (this) {
      old = objects.remove(key);
    }
    if (old != null) {
      fire(new ConfigEvent(EventType.DELETE, old));
    }
  }

  /**
   * Tells listeners that the IngressRules naming this TLS secret ({@code <name>.<namespace>}) changed:
   * their certificate did, and what the proxy is served with them.
   */
  void secretChanged(String reference) {
    secretChanged(reference, Set.of());
  }

  /** {@link #secretChanged(String)}, but for the rules listeners just heard of ({@code told}). */
  void secretChanged(String reference, Set<String> told) {
    List<Config> users = new ArrayList<>();
    synchronized (this) {
      for (Config c : list(ConfigKind.INGRESS_RULE, "")) {
        if (c.spec(IngressRule.class).getTlsSecret().equals(reference) && !told.contains(c.key())) {
          users.add(c);
        }
      }
    }
    for (Config c : users) {
      fire(new ConfigEvent(EventType.UPDATE, c));
    }
  }

  /** Equal but for the resource version. */
  static boolean sameContent(Config a, Config b) {
    return a.meta().withResourceVersion("").equals(b.meta().withResourceVersion("")) && a.spec().equals(b.spec());
  }

  private void fire(ConfigEvent event) {
    for (Consumer<ConfigEvent> l : listeners) {
      try {
        l.accept(event);
      } catch (RuntimeException e) {
        // One failing listener must not stop the others or the store's thread.
        log.error("config listener {} failed on {} {}", l, event.type(), event.config().key(), e);
      }
    }
  }
}
