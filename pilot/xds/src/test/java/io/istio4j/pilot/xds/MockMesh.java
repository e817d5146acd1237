package io.istio4j.pilot.xds;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.MemoryConfigStore;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

/**
 * Upstream Pilot 0.2's mock registry ({@code model/mock}): services {@code hello} (VIP 10.1.0.0)
 * and {@code world} (VIP 10.2.0.0) with ports http 80, http-status 81 (endpoint 1081), custom 90
 * (TCP, 1090), mongo 100 (1100), redis 110 (1110), two instances each labelled version v0 / v1 at
 * x.x.1.0 / x.x.1.1; {@code httpbin}, an ExternalName service for httpbin.org on port http 80.
 */
final class MockMesh {
  static final String HELLO = "hello.default.svc.cluster.local";
  static final String WORLD = "world.default.svc.cluster.local";
  static final String HTTPBIN = "httpbin.default.svc.cluster.local";
  static final String SIDECAR_V0 = "sidecar~10.1.1.0~v0.default~default.svc.cluster.local";
  static final String SIDECAR_V1 = "sidecar~10.1.1.1~v1.default~default.svc.cluster.local";
  static final String INGRESS = "ingress~10.3.3.3~ingress.default~default.svc.cluster.local";
  static final Path RULES = Path.of(System.getProperty("upstream.pilot.dir", "/work/shared/conformance/upstream-pilot"), "rules");

  static final List<Port> PORTS = List.of(
      new Port("http", 80, Protocol.HTTP),
      new Port("http-status", 81, Protocol.HTTP),
      new Port("custom", 90, Protocol.TCP),
      new Port("mongo", 100, Protocol.MONGO),
      new Port("redis", 110, Protocol.REDIS));

  final MemoryServiceRegistry registry = new MemoryServiceRegistry("mock");
  final MemoryConfigStore store = new MemoryConfigStore(EnumSet.allOf(ConfigKind.class));

  MockMesh() {
    add(HELLO, "10.1.0.0", "10.1.1.");
    add(WORLD, "10.2.0.0", "10.2.1.");
    registry.putService(new Service(HTTPBIN, null, List.of(new Port("http", 80, Protocol.HTTP)), "httpbin.org", List.of(), false));
    registry.start();
  }

  private void add(String host, String vip, String ipPrefix) {
    Service s = Service.of(host, vip, PORTS);
    registry.putService(s);
    List<ServiceInstance> instances = new ArrayList<>();
    for (int v = 0; v < 2; v++) {
      for (Port p : PORTS) {
        int endpointPort = p.port() == 80 ? 80 : p.port() + 1000;
        instances.add(new ServiceInstance(new NetworkEndpoint(ipPrefix + v, endpointPort, p), s,
            Labels.of("version", "v" + v), "region/zone", null));
      }
    }
    registry.setInstances(host, instances);
  }

  /** Stores an upstream rule file (the spec part only) as an object of this kind. */
  MockMesh rule(ConfigKind kind, String file) {
    store.create(new Config(new ConfigMeta(kind, file.replace(".yaml", ""), "default", "cluster.local",
        Map.of(), Map.of(), ""), parse(kind, RULES.resolve(file))));
    return this;
  }

  static Message parse(ConfigKind kind, Path file) {
    try {
      Object yaml = new ObjectMapper(new YAMLFactory()).readValue(Files.readString(file), Object.class);
      String json = new ObjectMapper().writeValueAsString(yaml);
      Message.Builder b = kind.defaultInstance().newBuilderForType();
      JsonFormat.parser().merge(json, b);
      return b.build();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  ProxyResources translate(String nodeId) {
    PushContext ctx = new PushContext(registry, store, XdsOptions.defaults(), new EndpointIndex());
    ProxyNode node = ProxyNode.parse(nodeId);
    return new Translator(ctx).translate(node, node.proxyless() ? List.of() : registry.hostInstances(List.of(node.ip())));
  }
}
