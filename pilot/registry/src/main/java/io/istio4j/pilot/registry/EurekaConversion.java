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
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Eureka's {@code GET /apps} JSON to services, as Istio 0.2's Eureka platform did: each distinct
 * instance {@code hostName} is a service of that hostname; only {@code UP} instances count; an
 * instance's enabled {@code port} and {@code securePort} are service ports named by their number,
 * with the protocol from the metadata key {@code istio.protocol} (TCP when absent or unknown; on a
 * port declared with two protocols the first, in application then instance order, is kept); the
 * instance endpoints are {@code ipAddr} on those ports, labelled with the other metadata entries
 * (except {@code @class}).
 *
 * <p>Lenient where Eureka servers differ (a lone application or instance as an object rather than
 * an array, {@code @enabled} as a string or a boolean, a port number as a string); an instance
 * that cannot be used is skipped and reported in {@link Result#problems}, the rest still counts.
 */
final class EurekaConversion {
  static final String PROTOCOL_METADATA = "istio.protocol";

  /** The services found, and what was skipped and why. */
  record Result(Map<String, RemoteRegistry.Host> hosts, List<String> problems) {}

  /** The JSON is not an Eureka applications document. */
  static final class FormatException extends Exception {
    private static final long serialVersionUID = 1L;

    FormatException(String message) {
      super(message);
    }
  }

  private record Instance(String app, String id, String hostName, String ipAddr, List<Integer> ports,
      Protocol protocol, Labels labels) {}

  private EurekaConversion() {}

  static Result convert(JsonNode root) throws FormatException {
    JsonNode apps = root.path("applications");
    if (!apps.isObject()) {
      throw new FormatException("no \"applications\" object at the top (expected Eureka's GET /apps JSON)");
    }
    List<String> problems = new ArrayList<>();
    List<Instance> up = new ArrayList<>();
    for (JsonNode app : elements(apps.path("application"))) {
      String appName = app.path("name").asText("");
      for (JsonNode in : elements(app.path("instance"))) {
        instance(appName, in, problems).ifPresent(up::add);
      }
    }
    // Upstream sorted applications by name and instances within them: the first protocol wins.
    up.sort(Comparator.comparing(Instance::app).thenComparing(Instance::hostName).thenComparing(Instance::ipAddr)
        .thenComparing(Instance::id));
    Map<String, Map<Integer, Port>> ports = new LinkedHashMap<>();
    for (Instance i : up) {
      Map<Integer, Port> byNumber = ports.computeIfAbsent(i.hostName(), h -> new LinkedHashMap<>());
      for (int p : i.ports()) {
        Port existing = byNumber.get(p);
        if (existing == null) {
          byNumber.put(p, new Port(Integer.toString(p), p, i.protocol()));
        } else if (existing.protocol() != i.protocol()) {
          problems.add(i.hostName() + ":" + p + " has conflicting protocols " + existing.protocol().wireName() + " and "
              + i.protocol().wireName() + " (instance " + i.id() + "); keeping " + existing.protocol().wireName());
        }
      }
    }
    Map<String, Service> services = new HashMap<>();
    for (Map.Entry<String, Map<Integer, Port>> e : ports.entrySet()) {
      services.put(e.getKey(), new Service(e.getKey(), null, List.copyOf(e.getValue().values()), null, List.of(), false));
    }
    Map<String, List<ServiceInstance>> instances = new HashMap<>();
    for (Instance i : up) {
      Service s = services.get(i.hostName());
      for (int p : i.ports()) {
        Port sp = ports.get(i.hostName()).get(p);
        instances.computeIfAbsent(i.hostName(), h -> new ArrayList<>())
            .add(new ServiceInstance(new NetworkEndpoint(i.ipAddr(), p, sp), s, i.labels(), null, null));
      }
    }
    Map<String, RemoteRegistry.Host> hosts = new TreeMap<>();
    for (Service s : services.values()) {
      List<ServiceInstance> list = instances.getOrDefault(s.hostname(), List.of());
      list.sort(Comparator.comparing((ServiceInstance x) -> x.endpoint().address())
          .thenComparingInt(x -> x.endpoint().port()).thenComparing(x -> x.labels().toString()));
      hosts.put(s.hostname(), new RemoteRegistry.Host(s, list));
    }
    return new Result(hosts, problems);
  }

  private static Optional<Instance> instance(String app, JsonNode in, List<String> problems) {
    String id = in.path("instanceId").asText("");
    String hostName = in.path("hostName").asText("");
    String where = "application " + app + " instance " + (id.isEmpty() ? hostName : id);
    if (!"UP".equals(in.path("status").asText(""))) {
      return Optional.empty();
    }
    if (hostName.isEmpty()) {
      problems.add(where + ": hostName is empty; skipped");
      return Optional.empty();
    }
    String ip = in.path("ipAddr").asText("");
    if (ip.isEmpty()) {
      problems.add(where + ": ipAddr is empty; skipped");
      return Optional.empty();
    }
    List<Integer> ports = new ArrayList<>(2);
    for (String field : List.of("port", "securePort")) {
      JsonNode p = in.path(field);
      if (!enabled(p.path("@enabled"))) {
        continue;
      }
      JsonNode n = p.path("$");
      int number = n.isNumber() ? n.asInt(-1) : parsePort(n.asText(""));
      if (number < 1 || number > 65535) {
        problems.add(where + ": " + field + " " + n + " is not in 1..65535; ignored");
        continue;
      }
      if (!ports.contains(number)) {
        ports.add(number);
      }
    }
    if (ports.isEmpty()) {
      return Optional.empty();
    }
    Protocol protocol = Protocol.TCP;
    Map<String, String> labels = new TreeMap<>();
    JsonNode md = in.path("metadata");
    for (Iterator<Map.Entry<String, JsonNode>> it = md.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getValue().isValueNode()) {
        continue;
      }
      String value = e.getValue().asText();
      if (e.getKey().equals(PROTOCOL_METADATA)) {
        Optional<Protocol> parsed = Protocol.parse(value);
        if (parsed.isPresent()) {
          protocol = parsed.get();
        } else if (!value.isEmpty()) {
          problems.add(where + ": unsupported " + PROTOCOL_METADATA + " '" + value + "'; using TCP");
        }
      } else if (!e.getKey().equals("@class")) {
        labels.put(e.getKey(), value);
      }
    }
    return Optional.of(new Instance(app, id, hostName, ip, List.copyOf(ports), protocol, Labels.of(labels)));
  }

  private static boolean enabled(JsonNode n) {
    return n.isBoolean() ? n.asBoolean() : "true".equalsIgnoreCase(n.asText(""));
  }

  private static int parsePort(String s) {
    try {
      return Integer.parseInt(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static List<JsonNode> elements(JsonNode n) {
    if (n.isArray()) {
      List<JsonNode> out = new ArrayList<>(n.size());
      n.forEach(out::add);
      return out;
    }
    return n.isObject() ? List.of(n) : List.of();
  }
}
