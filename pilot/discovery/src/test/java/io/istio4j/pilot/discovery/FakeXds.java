package io.istio4j.pilot.discovery;

import io.grpc.ServerServiceDefinition;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.RegistryEvent;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** An xDS endpoint that records what the process tells it and serves nothing. */
class FakeXds implements XdsEndpoint {
  final List<Object> events = new CopyOnWriteArrayList<>();
  volatile boolean serving;
  volatile boolean closed;

  @Override
  public List<ServerServiceDefinition> services() {
    return List.of();
  }

  @Override
  public void onRegistryEvent(RegistryEvent event) {
    events.add(event);
  }

  @Override
  public void onConfigEvent(ConfigEvent event) {
    events.add(event);
  }

  @Override
  public void startServing() {
    serving = true;
  }

  @Override
  public boolean serving() {
    return serving;
  }

  @Override
  public XdsStats stats() {
    return new XdsStats(3, Map.of("Cluster", 7L), List.of(0.01, 0.1), List.of(5L, 1L, 1L), 2.5, Map.of("RouteConfiguration", 1L));
  }

  @Override
  public String clientsJson() {
    return "{\"clients\":[]}\n";
  }

  @Override
  public void close() {
    closed = true;
  }
}
