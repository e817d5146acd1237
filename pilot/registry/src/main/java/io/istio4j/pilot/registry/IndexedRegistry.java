package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * What the file and Kubernetes registries share: the {@link KubernetesIndex} both feed, the reads
 * answered from it, the listeners and the synced flag. A subclass applies its source's objects to
 * {@link #index} and hands the resulting events to {@link #fire}.
 */
abstract class IndexedRegistry implements ServiceRegistry, RegistryStatus {
  protected final KubernetesIndex index;
  private final List<Consumer<RegistryEvent>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong eventsFired = new AtomicLong();
  private volatile boolean synced;

  IndexedRegistry(KubernetesIndex index) {
    this.index = requireNonNull(index, "index");
  }

  @Override
  public final void addListener(Consumer<RegistryEvent> listener) {
    listeners.add(requireNonNull(listener, "listener"));
  }

  /** Calls every listener with each event, in order; a listener that throws is logged and skipped. */
  protected final void fire(List<RegistryEvent> events, Logger log) {
    for (RegistryEvent e : events) {
      eventsFired.incrementAndGet();
      for (Consumer<RegistryEvent> l : listeners) {
        try {
          l.accept(e);
        } catch (RuntimeException ex) {
          log.error("{}: a listener failed on {}", name(), e, ex);
        }
      }
    }
  }

  /** Events delivered so far (for the status page). */
  protected final long eventsFired() {
    return eventsFired.get();
  }

  protected final void markSynced() {
    synced = true;
  }

  @Override
  public final boolean hasSynced() {
    return synced;
  }

  @Override
  public final List<Service> services() {
    return index.services();
  }

  @Override
  public final Optional<Service> service(String hostname) {
    return index.service(hostname);
  }

  @Override
  public final List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    return index.instances(hostname, portNames, labels);
  }

  @Override
  public final List<ServiceInstance> hostInstances(Collection<String> addresses) {
    return index.hostInstances(addresses);
  }

  @Override
  public final List<Port> managementPorts(String address) {
    return index.managementPorts(address);
  }

  @Override
  public final List<String> serviceAccounts(String hostname, Set<String> portNames) {
    return index.serviceAccounts(hostname, portNames);
  }
}
