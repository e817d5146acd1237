package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.config.v1.IngressRule;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An in-memory config store: maps keyed by {@code type/namespace/name}, a counter as the resource
 * version, listeners called synchronously by the writing thread after the write is visible. Used
 * by tests and as the base of stores that load their objects from elsewhere. Thread-safe.
 */
public final class MemoryConfigStore implements ConfigStoreCache {
  private final Set<ConfigKind> kinds;
  private final TreeMap<String, Config> objects = new TreeMap<>();
  private final List<Consumer<ConfigEvent>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong revision = new AtomicLong();
  private final Map<String, TlsSecret> secrets = new ConcurrentHashMap<>();
  private volatile boolean synced;

  /** A store for every stored kind (RouteRule, DestinationPolicy, EgressRule). */
  public MemoryConfigStore() {
    this(EnumSet.of(ConfigKind.ROUTE_RULE, ConfigKind.DESTINATION_POLICY, ConfigKind.EGRESS_RULE));
  }

  public MemoryConfigStore(Set<ConfigKind> kinds) {
    this.kinds = Set.copyOf(requireNonNull(kinds, "kinds"));
  }

  @Override
  public Set<ConfigKind> kinds() {
    return kinds;
  }

  @Override
  public synchronized Optional<Config> get(ConfigKind kind, String name, String namespace) {
    return Optional.ofNullable(objects.get(ConfigMeta.of(kind, name, namespace).key()));
  }

  @Override
  public synchronized List<Config> list(ConfigKind kind, String namespace) {
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

  @Override
  public String create(Config config) {
    checkKind(config);
    Config stored;
    synchronized (this) {
      if (objects.containsKey(config.key())) {
        throw new ConfigStoreException(config.key() + ": already exists");
      }
      stored = withNewVersion(config);
      objects.put(config.key(), stored);
    }
    fire(new ConfigEvent(EventType.ADD, stored));
    return stored.meta().resourceVersion();
  }

  @Override
  public String update(Config config) {
    checkKind(config);
    Config stored;
    synchronized (this) {
      Config old = objects.get(config.key());
      if (old == null) {
        throw new ConfigStoreException(config.key() + ": does not exist");
      }
      if (!old.meta().resourceVersion().equals(config.meta().resourceVersion())) {
        throw new ConfigStoreException(
            config.key() + ": old revision " + config.meta().resourceVersion() + ", current is "
                + old.meta().resourceVersion());
      }
      stored = withNewVersion(config);
      objects.put(config.key(), stored);
    }
    fire(new ConfigEvent(EventType.UPDATE, stored));
    return stored.meta().resourceVersion();
  }

  /** Creates or replaces an object whatever its version (for loaders that own the whole view). */
  public String put(Config config) {
    checkKind(config);
    Config stored;
    Config old;
    synchronized (this) {
      stored = withNewVersion(config);
      old = objects.put(config.key(), stored);
    }
    fire(new ConfigEvent(old == null ? EventType.ADD : EventType.UPDATE, stored));
    return stored.meta().resourceVersion();
  }

  @Override
  public void delete(ConfigKind kind, String name, String namespace) {
    Config old;
    synchronized (this) {
      old = objects.remove(ConfigMeta.of(kind, name, namespace).key());
    }
    if (old == null) {
      throw new ConfigStoreException(ConfigMeta.of(kind, name, namespace).key() + ": does not exist");
    }
    fire(new ConfigEvent(EventType.DELETE, old));
  }

  @Override
  public Optional<TlsSecret> tlsSecret(String reference) {
    return Optional.ofNullable(secrets.get(reference));
  }

  /** Stores a TLS secret and reports an UPDATE of every IngressRule naming it, as the watching stores do. */
  public void putTlsSecret(String namespace, String name, String certificateChain, String privateKey) {
    TlsSecret s = new TlsSecret(namespace, name, Long.toString(revision.incrementAndGet()), certificateChain, privateKey);
    secrets.put(s.reference(), s);
    secretChanged(s.reference());
  }

  /** Removes a TLS secret and reports an UPDATE of every IngressRule naming it. */
  public void removeTlsSecret(String namespace, String name) {
    String ref = TlsSecret.reference(namespace, name);
    if (secrets.remove(ref) != null) {
      secretChanged(ref);
    }
  }

  private void secretChanged(String ref) {
    List<Config> users = new ArrayList<>();
    synchronized (this) {
      for (Config c : objects.values()) {
        if (c.meta().kind() == ConfigKind.INGRESS_RULE
            && c.spec(IngressRule.class).getTlsSecret().equals(ref)) {
          users.add(c);
        }
      }
    }
    for (Config c : users) {
      fire(new ConfigEvent(EventType.UPDATE, c));
    }
  }

  @Override
  public void addListener(Consumer<ConfigEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  @Override
  public void start() {
    synced = true;
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public void close() {}

  private void checkKind(Config config) {
    if (!kinds.contains(config.meta().kind())) {
      throw new ConfigStoreException(config.key() + ": this store does not hold " + config.meta().kind().type());
    }
  }

  private Config withNewVersion(Config config) {
    return new Config(config.meta().withResourceVersion(Long.toString(revision.incrementAndGet())), config.spec());
  }

  private void fire(ConfigEvent event) {
    for (Consumer<ConfigEvent> l : listeners) {
      l.accept(event);
    }
  }
}
