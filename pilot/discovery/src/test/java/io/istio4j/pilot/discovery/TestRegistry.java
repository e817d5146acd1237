package io.istio4j.pilot.discovery;

import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.model.ServiceRegistry;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/** A memory registry that syncs only when the test says so. */
final class TestRegistry implements ServiceRegistry {
  final MemoryServiceRegistry memory;
  volatile boolean synced;
  volatile boolean closed;

  TestRegistry(String name) {
    memory = new MemoryServiceRegistry(name);
  }

  void sync() {
    synced = true;
  }

  @Override
  public String name() {
    return memory.name();
  }

  @Override
  public void addListener(Consumer<RegistryEvent> listener) {
    memory.addListener(listener);
  }

  @Override
  public void start() {}

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public void close() {
    closed = true;
  }

  @Override
  public List<Service> services() {
    return memory.services();
  }

  @Override
  public Optional<Service> service(String hostname) {
    return memory.service(hostname);
  }

  @Override
  public List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    return memory.instances(hostname, portNames, labels);
  }

  @Override
  public List<ServiceInstance> hostInstances(Collection<String> addresses) {
    return memory.hostInstances(addresses);
  }
}
