package io.istio4j.pilot.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Consul's service entries to a service and its instances, as Istio 0.2's Consul platform did:
 * hostname {@code <name>.service.consul}; the port protocol, and the port's name, from the NODE
 * metadata {@code protocol} ({@code http} when absent; an unknown value keeps its name and is TCP);
 * {@code ServiceTags} of the form {@code key|value} as labels (others ignored); the node metadata
 * {@code external} as the external name; the instance address {@code ServiceAddress}, else the
 * node's {@code Address}.
 *
 * <p>Reads both shapes: {@code /v1/health/service/NAME} entries ({@code Node}, {@code Service},
 * {@code Checks}) and {@code /v1/catalog/service/NAME} entries (flat {@code Node}, {@code Address},
 * {@code NodeMeta}, {@code Service*}). With health, an instance whose worst check is
 * {@code critical} is not an endpoint (as Consul's own DNS answers); it still declares its port, so
 * a health flap changes instances, not the service.
 */
final class ConsulConversion {
  static final String DOMAIN = ".service.consul";

  /** One entry, whichever endpoint it came from. */
  record Entry(String node, String nodeAddress, Map<String, String> nodeMeta, String serviceId, String serviceAddress,
      int port, List<String> tags, String status) {}

  /** The JSON is not what Consul returns. */
  static final class FormatException extends Exception {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message);
    }
  }

  private ConsulConversion() {}

  /** The service names of {@code GET /v1/catalog/services} (an object: name to tags). */
  static List<String> serviceNames(JsonNode root, List<String> problems) throws FormatException {
    if (!root.isObject()) {
      throw new FormatException("expected a JSON object of service names to tags, got " + root.getNodeType());
    }
    List<String> out = new ArrayList<>();
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (name.isEmpty() || name.contains("/") || name.contains(".")) {
        problems.add("service name '" + name + "' cannot be a hostname label; skipped");
        continue;
      }
      out.add(name);
    }
    return out;
  }

  /** The entries of {@code /v1/health/service/NAME} or {@code /v1/catalog/service/NAME} (an array). */
  static List<Entry> entries(JsonNode root, String service, List<String> problems) throws FormatException {
    if (!root.isArray()) {
      throw new FormatException("service " + service + ": expected a JSON array of entries, got " + root.getNodeType());
    }
    List<Entry> out = new ArrayList<>();
    for (JsonNode e : root) {
      boolean health = e.has("Service") && e.get("Service").isObject();
      JsonNode node = health ? e.path("Node") : e;
      JsonNode svc = health ? e.path("Service") : e;
      String nodeName = node.path("Node").asText("");
      String nodeAddress = node.path("Address").asText("");
      Map<String, String> meta = strings(health ? node.path("Meta") : e.path("NodeMeta"));
      String id = svc.path(health ? "ID" : "ServiceID").asText("");
      String address = svc.path(health ? "Address" : "ServiceAddress").asText("");
      JsonNode portNode = svc.path(health ? "Port" : "ServicePort");
      int port = portNode.canConvertToInt() ? portNode.asInt() : -1;
      List<String> tags = new ArrayList<>();
      for (JsonNode t : svc.path(health ? "Tags" : "ServiceTags")) {
        if (t.isTextual()) {
          tags.add(t.asText());
        }
      }
      String status = health ? worst(e.path("Checks")) : "passing";
      String where = "service " + service + " instance " + (id.isEmpty() ? nodeName : id) + " on node " + nodeName;
      if (port < 1 || port > 65535) {
        problems.add(where + ": port " + portNode + " is not in 1..65535; skipped");
        continue;
      }
      if (address.isEmpty() && nodeAddress.isEmpty()) {
        problems.add(where + ": neither the service nor the node has an address; skipped");
        continue;
      }
      out.add(new Entry(nodeName, nodeAddress, meta, id, address, port, List.copyOf(tags), status));
    }
    return out;
  }

  /** The service and its instances. */
  static RemoteRegistry.Host host(String name, List<Entry> entries, List<String> problems) {
    String hostname = name + DOMAIN;
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparing(Entry::node).thenComparing(Entry::serviceId).thenComparingInt(Entry::port));
    Map<Integer, Port> ports = new LinkedHashMap<>();
    Set<String> names = new HashSet<>();
    String external = null;
    for (Entry e : sorted) {
      String portName = e.nodeMeta().getOrDefault("protocol", "");
      if (portName.isEmpty()) {
        portName = "http";
      }
      Protocol protocol = Protocol.parse(portName).orElse(Protocol.TCP);
      Port existing = ports.get(e.port());
      if (existing == null) {
        // Istio 0.2 named the port after the protocol; two port numbers with one protocol would
        // share a name, which a service cannot have: the later one gets its number appended.
        String unique = names.contains(portName) ? portName + "-" + e.port() : portName;
        names.add(unique);
        ports.put(e.port(), new Port(unique, e.port(), protocol));
      } else if (existing.protocol() != protocol) {
        problems.add("service " + name + ": port " + e.port() + " has conflicting protocols "
            + existing.protocol().wireName() + " and " + protocol.wireName() + " (node " + e.node() + "); keeping "
            + existing.protocol().wireName());
      }
      String ext = e.nodeMeta().get("external");
      if (external == null && ext != null && !ext.isEmpty()) {
        external = ext;
      }
    }
    Service service = new Service(hostname, null, List.copyOf(ports.values()), external, List.of(), false);
    List<ServiceInstance> instances = new ArrayList<>();
    for (Entry e : sorted) {
      if (e.status().equals("critical")) {
        continue;
      }
      String address = e.serviceAddress().isEmpty() ? e.nodeAddress() : e.serviceAddress();
      instances.add(new ServiceInstance(new NetworkEndpoint(address, e.port(), ports.get(e.port())), service,
          labels(e.tags(), name, problems), null, null));
    }
    instances.sort(Comparator.comparing((ServiceInstance x) -> x.endpoint().address())
        .thenComparingInt(x -> x.endpoint().port()).thenComparing(x -> x.labels().toString()));
    return new RemoteRegistry.Host(service, instances);
  }

  static Labels labels(List<String> tags, String service, List<String> problems) {
    Map<String, String> out = new TreeMap<>();
    for (String tag : tags) {
      String[] parts = tag.split("\\|", -1);
      if (parts.length > 1) {
        out.put(parts[0], parts[1]);
      } else {
        problems.add("service " + service + ": tag '" + tag + "' ignored (expected key|value)");
      }
    }
    return Labels.of(out);
  }

  private static String worst(JsonNode checks) {
    String worst = "passing";
    for (JsonNode c : checks) {
      String s = c.path("Status").asText("");
      if (s.equals("critical") || s.equals("maintenance")) {
        return "critical";
      }
      if (s.equals("warning")) {
        worst = "warning";
      }
    }
    return worst;
  }

  private static Map<String, String> strings(@Nullable JsonNode n) {
    Map<String, String> out = new TreeMap<>();
    if (n == null || !n.isObject()) {
      return out;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isValueNode()) {
        out.put(e.getKey(), e.getValue().asText());
      }
    }
    return out;
  }
}
