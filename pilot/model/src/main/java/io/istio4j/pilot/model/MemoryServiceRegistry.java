package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A registry held in memory: services and instances put and removed by code. The base of the file
 * registry and the fixture of tests. Listeners are called by the writing thread after the change is
 * visible. Thread-safe.
 */
public final class MemoryServiceRegistry implements ServiceRegistry {
  private final String name;
  private final Map<String, Service> services = new LinkedHashMap<>();
  private final Map<String, List<ServiceInstance>> instances = new LinkedHashMap<>();
  /** Instances by endpoint address, rebuilt on the first lookup after a change (null: stale). */
  private @Nullable Map<String, List<ServiceInstance>> byAddress;
  private final List<Consumer<RegistryEvent>> listeners = new CopyOnWriteArrayList<>();
  private volatile boolean synced;

  public MemoryServiceRegistry(String name) {
    this.name = requireNonNull(name, "name");
  }

  @Override
  public String name() {
    return name;
  }

  /** Adds or replaces a service. */
  public void putService(Service service) {
    EventType type;
    synchronized (this) {
      type = services.put(service.hostname(), service) == null ? EventType.ADD : EventType.UPDATE;
    }
    fire(new RegistryEvent(name, RegistryEvent.Kind.SERVICE, type, service.hostname()));
  }

  /** Removes a service and its instances. */
  public void removeService(String hostname) {
    boolean removed;
    synchronized (this) {
      removed = services.remove(hostname) != null;
      instances.remove(hostname);
      byAddress = null;
    }
    if (removed) {
      fire(new RegistryEvent(name, RegistryEvent.Kind.SERVICE, EventType.DELETE, hostname));
    }
  }

  /** Replaces every instance of a service. */
  public void setInstances(String hostname, List<ServiceInstance> list) {
    for (ServiceInstance i : list) {
      if (!i.service().hostname().equals(hostname)) {
        throw new IllegalArgumentException(
            "instance " + i.endpoint() + " belongs to " + i.service().hostname() + ", not " + hostname);
      }
    }
    EventType type;
    synchronized (this) {
      type = instances.put(hostname, List.copyOf(list)) == null ? EventType.ADD : EventType.UPDATE;
      byAddress = null;
    }
    fire(new RegistryEvent(name, RegistryEvent.Kind.INSTANCES, type, hostname));
  }

  @Override
  public synchronized List<Service> services() {
    return List.copyOf(services.values());
  }

  @Override
  public synchronized Optional<Service> service(String hostname) {
    return Optional.ofNullable(services.get(hostname));
  }

  @Override
  public synchronized List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    List<ServiceInstance> all = instances.getOrDefault(hostname, List.of());
    List<ServiceInstance> out = new ArrayList<>();
    for (ServiceInstance i : all) {
      if ((portNames.isEmpty() || portNames.contains(i.endpoint().servicePort().name()))
          && labels.hasSubsetOf(i.labels())) {
        out.add(i);
      }
    }
    return out;
  }

  @Override
  public synchronized List<ServiceInstance> hostInstances(Collection<String> addresses) {
    // Every sidecar's push asks for its own address: an index instead of a scan of every instance.
    Map<String, List<ServiceInstance>> index = byAddress;
    if (index == null) {
      index = new HashMap<>();
      for (List<ServiceInstance> list : instances.values()) {
        for (ServiceInstance i : list) {
          index.computeIfAbsent(i.endpoint().address(), k -> new ArrayList<>()).add(i);
        }
      }
      byAddress = index;
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (String a : new LinkedHashSet<>(addresses)) {
      out.addAll(index.getOrDefault(a, List.of()));
    }
    return out;
  }


  @Override
  public synchronized List<String> serviceAccounts(String hostname, Set<String> portNames) {
    Set<String> out = new TreeSet<>();
    for (ServiceInstance i : instances(hostname, portNames, LabelsCollection.ALL)) {
      if (i.serviceAccount() != null) {
        out.add(i.serviceAccount());
      }
    }
    Service s = services.get(hostname);
    if (s != null) {
      out.addAll(s.serviceAccounts());
    }
    return List.copyOf(out);
  }

  @Override
  public void addListener(Consumer<RegistryEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  @Override
  public void start() {
    synced = true;
  }

  /** Marks the registry synced (or not), for loaders that fill it before calling {@link #start}. */
  public void setSynced(boolean value) {
    synced = value;
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public void close() {}

  private void fire(RegistryEvent event) {
    for (Consumer<RegistryEvent> l : listeners) {
      l.accept(event);
    }
  }
}
