package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several registries seen as one service namespace, in order. A hostname belongs to the first
 * registry (in {@code --registries} order) that has a service of that name, as Istio 0.2's
 * {@code GetService} answered: {@link #services()} lists each hostname once, with that registry's
 * service; {@link #instances} and {@link #serviceAccounts} answer from that registry too (0.2
 * concatenated services and took the first non-empty instance list, which could pair one
 * registry's service with another's endpoints). The same hostname in two registries is a
 * {@link Conflict}: the later registry's service is shadowed, and {@link #conflicts} lists it for
 * {@code /debug/registryz} and {@code /metrics}. {@link #hostInstances} concatenates, except the
 * instances of shadowed services; {@link #managementPorts} takes the first non-empty answer.
 * Events of every registry are forwarded to this registry's listeners, one at a time. Synced once
 * every registry is.
 *
 * <pre>{@code
 * AggregateRegistry all = Registries.open("file:///etc/istio/services,kubernetes", "cluster.local");
 * all.addListener(xds::onRegistryEvent);
 * all.start();
 * }</pre>
 */
public final class AggregateRegistry implements ServiceRegistry, RegistryStatus {
  private static final Logger log = LoggerFactory.getLogger(AggregateRegistry.class);

  private final List<ServiceRegistry> registries;
  private final List<Consumer<RegistryEvent>> listeners = new CopyOnWriteArrayList<>();
  private final Object deliveryLock = new Object();

  /** The registries, first one first. */
  public AggregateRegistry(List<? extends ServiceRegistry> registries) {
    this.registries = List.copyOf(requireNonNull(registries, "registries"));
    for (ServiceRegistry r : this.registries) {
      r.addListener(this::forward);
    }
  }

  // Each registry calls from its own thread; the lock keeps listeners to one event at a time.
  private void forward(RegistryEvent event) {
    synchronized (deliveryLock) {
      for (Consumer<RegistryEvent> l : listeners) {
        try {
          l.accept(event);
        } catch (RuntimeException e) {
          log.error("Aggregate registry: a listener failed on {}", event, e);
        }
      }
    }
  }

  /** The registries, in order. */
  public List<ServiceRegistry> registries() {
    return registries;
  }

  @Override
  public String name() {
    StringBuilder b = new StringBuilder("aggregate[");
    for (int i = 0; i < registries.size(); i++) {
      b.append(i == 0 ? "" : ",").append(registries.get(i).name());
    }
    return b.append(']').toString();
  }

  @Override
  public void addListener(Consumer<RegistryEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  @Override
  public void start() {
    for (ServiceRegistry r : registries) {
      r.start();
    }
  }

  @Override
  public boolean hasSynced() {
    for (ServiceRegistry r : registries) {
      if (!r.hasSynced()) {
        return false;
      }
    }
    return true;
  }

  /**
   * A hostname served by more than one registry.
   *
   * @param hostname the service hostname
   * @param winner the registry whose service is used (the first in order)
   * @param shadowed the later registries whose service of that name is ignored
   */
  public record Conflict(String hostname, String winner, List<String> shadowed) {
    public Conflict {
      requireNonNull(hostname, "hostname");
      requireNonNull(winner, "winner");
      shadowed = List.copyOf(shadowed);
    }
  }

  /** The hostnames present in more than one of these registries, sorted, with who wins. */
  public static List<Conflict> conflicts(List<? extends ServiceRegistry> registries) {
    Map<String, String> owner = new HashMap<>();
    Map<String, List<String>> shadowed = new TreeMap<>();
    for (ServiceRegistry r : registries) {
      for (Service s : r.services()) {
        String first = owner.putIfAbsent(s.hostname(), r.name());
        if (first != null && !first.equals(r.name())) {
          shadowed.computeIfAbsent(s.hostname(), h -> new ArrayList<>()).add(r.name());
        }
      }
    }
    List<Conflict> out = new ArrayList<>(shadowed.size());
    shadowed.forEach((h, l) -> out.add(new Conflict(h, owner.get(h), l)));
    return out;
  }

  /** The conflicts among this aggregate's registries. */
  public List<Conflict> conflicts() {
    return conflicts(registries);
  }

  @Override
  public List<Service> services() {
    if (registries.size() == 1) {
      return registries.get(0).services();
    }
    List<Service> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (ServiceRegistry r : registries) {
      for (Service s : r.services()) {
        if (seen.add(s.hostname())) {
          out.add(s);
        }
      }
    }
    return out;
  }

  // The registry a hostname belongs to: the first that has its service.
  private @Nullable ServiceRegistry owner(String hostname) {
    for (ServiceRegistry r : registries) {
      if (r.service(hostname).isPresent()) {
        return r;
      }
    }
    return null;
  }

  @Override
  public Optional<Service> service(String hostname) {
    for (ServiceRegistry r : registries) {
      Optional<Service> s = r.service(hostname);
      if (s.isPresent()) {
        return s;
      }
    }
    return Optional.empty();
  }

  @Override
  public List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    if (registries.size() == 1) {
      return registries.get(0).instances(hostname, portNames, labels);
    }
    ServiceRegistry owner = owner(hostname);
    if (owner != null) {
      return owner.instances(hostname, portNames, labels);
    }
    for (ServiceRegistry r : registries) {
      List<ServiceInstance> l = r.instances(hostname, portNames, labels);
      if (!l.isEmpty()) {
        return l;
      }
    }
    return List.of();
  }

  @Override
  public List<ServiceInstance> hostInstances(Collection<String> addresses) {
    if (registries.size() == 1) {
      return registries.get(0).hostInstances(addresses);
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      for (ServiceInstance i : r.hostInstances(addresses)) {
        ServiceRegistry owner = owner(i.service().hostname());
        if (owner == null || owner == r) {
          out.add(i);
        }
      }
    }
    return out;
  }

  @Override
  public List<Port> managementPorts(String address) {
    for (ServiceRegistry r : registries) {
      List<Port> l = r.managementPorts(address);
      if (!l.isEmpty()) {
        return l;
      }
    }
    return List.of();
  }

  @Override
  public List<String> serviceAccounts(String hostname, Set<String> portNames) {
    ServiceRegistry owner = registries.size() == 1 ? null : owner(hostname);
    if (owner != null) {
      return owner.serviceAccounts(hostname, portNames);
    }
    for (ServiceRegistry r : registries) {
      List<String> l = r.serviceAccounts(hostname, portNames);
      if (!l.isEmpty()) {
        return l;
      }
    }
    return List.of();
  }

  /** Each registry's name, sync state and own status. */
  @Override
  public Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("synced", hasSynced());
    List<Map<String, Object>> list = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      list.add(RegistryDebug.header(r));
    }
    out.put("registries", list);
    out.put("conflicts", conflictsView(conflicts()));
    return out;
  }

  /** Conflicts as JSON-able maps: {@code {"hostname", "winner", "shadowed": [...]}}. */
  public static List<Map<String, Object>> conflictsView(List<Conflict> conflicts) {
    List<Map<String, Object>> out = new ArrayList<>(conflicts.size());
    for (Conflict c : conflicts) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hostname", c.hostname());
      m.put("winner", c.winner());
      m.put("shadowed", c.shadowed());
      out.add(m);
    }
    return out;
  }

  /**
   * Every service with its instances, per registry: the body of {@code /debug/registryz} (like
   * Istio 0.2's {@code /v1/registration}). See {@link RegistryDebug#describe}.
   */
  public List<Map<String, Object>> debugView() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      out.add(RegistryDebug.describe(r));
    }
    return out;
  }

  /** Closes every registry, last first. */
  @Override
  public void close() {
    RuntimeException first = null;
    for (int i = registries.size() - 1; i >= 0; i--) {
      try {
        registries.get(i).close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
