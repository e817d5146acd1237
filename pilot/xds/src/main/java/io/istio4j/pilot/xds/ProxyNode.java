package io.istio4j.pilot.xds;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * Who is asking for config, parsed from the xDS {@code node.id}. Istio's proxies send
 * {@code <type>~<ip>~<id>~<domain>} (type {@code sidecar}, {@code ingress} or {@code egress}), e.g.
 * {@code sidecar~10.1.1.0~v0.default~default.svc.cluster.local}; any other node id (no {@code ~}) is
 * a proxyless gRPC client, which gets the client view: an {@code api_listener} per service port.
 * A proxyless gRPC server (grpc-java's {@code XdsServerBuilder}) sends
 * {@code proxyless~<ip>~<id>~<domain>}: the client view plus the server listeners of the instances at
 * its IP.
 *
 * @param type what kind of proxy this is
 * @param ip the proxy's IP address (empty for proxyless clients); it finds co-located instances
 * @param id the proxy's id, e.g. {@code <pod>.<namespace>} (the whole node id for proxyless clients)
 * @param domain the DNS domain of the proxy's namespace, e.g. {@code default.svc.cluster.local};
 *     short host names in virtual-host domains are relative to it
 * @param nodeId the node id as sent
 */
public record ProxyNode(Type type, String ip, String id, String domain, String nodeId) {
  /** The kinds of clients Pilot serves. */
  public enum Type {
    SIDECAR,
    INGRESS,
    EGRESS,
    PROXYLESS
  }

  public ProxyNode {
    requireNonNull(type, "type");
    requireNonNull(ip, "ip");
    requireNonNull(id, "id");
    requireNonNull(domain, "domain");
    requireNonNull(nodeId, "nodeId");
  }

  /**
   * Parses a node id. Ids without {@code ~} are proxyless clients.
   *
   * @throws IllegalArgumentException when an id with {@code ~} is not {@code type~ip~id~domain}
   *     with a known type and a non-empty IP
   */
  public static ProxyNode parse(String nodeId) {
    requireNonNull(nodeId, "nodeId");
    if (nodeId.indexOf('~') < 0) {
      return new ProxyNode(Type.PROXYLESS, "", nodeId, "", nodeId);
    }
    String[] parts = nodeId.split("~", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException(
          "node id '" + nodeId + "': expected 4 parts type~ip~id~domain, got " + parts.length);
    }
    Type type;
    switch (parts[0].toLowerCase(Locale.ROOT)) {
      case "sidecar":
        type = Type.SIDECAR;
        break;
      case "ingress":
        type = Type.INGRESS;
        break;
      case "egress":
        type = Type.EGRESS;
        break;
      case "proxyless":
        // A proxyless gRPC workload that serves too: its IP finds its instances (server listeners,
        // its identity's certificate).
        type = Type.PROXYLESS;
        break;
      default:
        throw new IllegalArgumentException(
            "node id '" + nodeId + "': type '" + parts[0] + "' (expected: sidecar, ingress, egress or proxyless)");
    }
    if (parts[1].isEmpty()) {
      throw new IllegalArgumentException("node id '" + nodeId + "': the IP part is empty");
    }
    return new ProxyNode(type, parts[1], parts[2], parts[3], nodeId);
  }

  /** True for proxyless gRPC clients. */
  public boolean proxyless() {
    return type == Type.PROXYLESS;
  }
}
