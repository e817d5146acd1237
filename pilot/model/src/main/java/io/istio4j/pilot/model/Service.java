package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A service: a hostname, an optional virtual IP and its ports.
 *
 * @param hostname the FQDN, e.g. {@code reviews.default.svc.cluster.local}
 * @param address the single virtual IP (Kubernetes ClusterIP), or null for headless and external
 *     services
 * @param ports the ports, in declaration order; names are unique
 * @param externalName for external services (Kubernetes {@code ExternalName}), the host they alias
 * @param serviceAccounts extra identities (SPIFFE URIs) allowed to run this service, e.g. for VMs
 * @param loadBalancingDisabled true for headless services (no VIP and not external)
 * @param annotations the platform annotations Pilot reads (e.g. {@code auth.istio.io/<port>}, the
 *     per-port mutual TLS mode); registries pass only the ones Pilot uses
 */
public record Service(
    String hostname,
    @Nullable String address,
    List<Port> ports,
    @Nullable String externalName,
    List<String> serviceAccounts,
    boolean loadBalancingDisabled,
    Map<String, String> annotations) {

  public Service {
    annotations = Map.copyOf(requireNonNull(annotations, "annotations"));
    requireNonNull(hostname, "hostname");
    if (hostname.isEmpty()) {
      throw new IllegalArgumentException("service hostname is empty");
    }
    ports = List.copyOf(requireNonNull(ports, "ports"));
    serviceAccounts = List.copyOf(requireNonNull(serviceAccounts, "serviceAccounts"));
    for (int i = 0; i < ports.size(); i++) {
      for (int j = i + 1; j < ports.size(); j++) {
        if (ports.get(i).name().equals(ports.get(j).name())) {
          throw new IllegalArgumentException(
              "service " + hostname + ": port name '" + ports.get(i).name() + "' is used twice");
        }
      }
    }
  }

  /** A service without annotations. */
  public Service(String hostname, @Nullable String address, List<Port> ports, @Nullable String externalName,
      List<String> serviceAccounts, boolean loadBalancingDisabled) {
    this(hostname, address, ports, externalName, serviceAccounts, loadBalancingDisabled, Map.of());
  }

  /** This service with these annotations. */
  public Service withAnnotations(Map<String, String> annotations) {
    return new Service(hostname, address, ports, externalName, serviceAccounts, loadBalancingDisabled, annotations);
  }

  /** A service with a VIP (or none), ports and nothing else. */
  public static Service of(String hostname, @Nullable String address, List<Port> ports) {
    return new Service(hostname, address, ports, null, List.of(), address == null);
  }

  /** True for external services (an {@code ExternalName}). */
  public boolean external() {
    return externalName != null && !externalName.isEmpty();
  }

  /** The port with this name. */
  public Optional<Port> port(String name) {
    for (Port p : ports) {
      if (p.name().equals(name)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The port with this number. */
  public Optional<Port> portNumber(int number) {
    for (Port p : ports) {
      if (p.port() == number) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * Upstream's service key: {@code hostname|portName|labels}, parts omitted from the right when
   * empty; it names an endpoint set (0.2's SDS service, xDS's EDS {@code service_name}).
   */
  public String key(@Nullable Port port, LabelsCollection labels) {
    return serviceKey(hostname, port == null ? "" : port.name(), labels);
  }

  /** {@link #key} from its parts. */
  public static String serviceKey(String hostname, String portName, LabelsCollection labels) {
    StringBuilder b = new StringBuilder(hostname);
    String l = labels.toString();
    if (!portName.isEmpty() || !l.isEmpty()) {
      b.append('|').append(portName);
      if (!l.isEmpty()) {
        b.append('|').append(l);
      }
    }
    return b.toString();
  }
}
