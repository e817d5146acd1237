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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several registries seen as one, in order, as Istio 0.2's aggregate: {@link #services()}
 * concatenates (a hostname present in two registries appears twice); {@link #service} and
 * {@link #instances} answer from the first registry that has a (non-empty) answer;
 * {@link #hostInstances} concatenates; {@link #managementPorts} and {@link #serviceAccounts} take
 * the first non-empty answer. Events of every registry are forwarded to this registry's listeners,
 * one at a time. Synced once every registry is.
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

  @Override
  public List<Service> services() {
    if (registries.size() == 1) {
      return registries.get(0).services();
    }
    List<Service> out = new ArrayList<>();
    for (ServiceRegistry r : registries) {
      out.addAll(r.services());
    }
    return out;
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
      out.addAll(r.hostInstances(addresses));
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
