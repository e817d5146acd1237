package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointPort;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServiceSpec;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Istio 0.2's rules for turning Kubernetes {@code v1} objects into Pilot's model, shared by the
 * Kubernetes registry (objects from the API server) and the file registry (the same objects read
 * from YAML files).
 *
 * <p>Example: Service {@code reviews} in namespace {@code default} with a port named
 * {@code http} becomes {@code reviews.default.svc.cluster.local} with an HTTP port; each ready
 * address of its Endpoints times each endpoint port whose NAME matches a service port is one
 * {@link ServiceInstance}, carrying the labels and service account of the Pod with that IP and
 * the {@code region/zone} of the Pod's Node.
 */
public final class KubernetesConversion {
  /** Annotation on a Service: comma list of Kubernetes service accounts its VMs run as. */
  public static final String KUBE_SERVICE_ACCOUNTS_ANNOTATION = "alpha.istio.io/kubernetes-serviceaccounts";

  /** Annotation on a Service: comma list of non-Kubernetes identities its VMs run as. */
  public static final String CANONICAL_SERVICE_ACCOUNTS_ANNOTATION = "alpha.istio.io/canonical-serviceaccounts";
  /** Prefix of the per-port mutual TLS mode annotations, {@code auth.istio.io/<port>} (0.3; PERMISSIVE added). */
  public static final String AUTH_ANNOTATION_PREFIX = "auth.istio.io/";

  /** Node label naming the region, as Kubernetes named it in 2017. */
  public static final String LEGACY_REGION_LABEL = "failure-domain.beta.kubernetes.io/region";

  /** Node label naming the zone, as Kubernetes named it in 2017. */
  public static final String LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone";

  /** Node label naming the region since Kubernetes 1.17. */
  public static final String REGION_LABEL = "topology.kubernetes.io/region";

  /** Node label naming the zone since Kubernetes 1.17. */
  public static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  /** The namespace whose services Pilot never serves. */
  public static final String KUBE_SYSTEM = "kube-system";

  /** The namespace of objects that name none (as {@code kubectl apply} assumes). */
  public static final String DEFAULT_NAMESPACE = "default";

  private KubernetesConversion() {}

  /** {@code <name>.<namespace>.svc.<domain>}. */
  public static String hostname(String name, String namespace, String domain) {
    return name + "." + namespace + ".svc." + domain;
  }

  /** The namespace of an object, {@code default} when it names none. */
  public static String namespace(ObjectMeta meta) {
    String ns = meta == null ? null : meta.getNamespace();
    return ns == null || ns.isEmpty() ? DEFAULT_NAMESPACE : ns;
  }

  /** {@code spiffe://<domain>/ns/<namespace>/sa/<account>}: a Kubernetes service account as a SPIFFE URI. */
  public static String kubeServiceAccount(String account, String namespace, String domain) {
    return "spiffe://" + domain + "/ns/" + namespace + "/sa/" + account;
  }

  /** {@code spiffe://<identity>}: a non-Kubernetes identity as a SPIFFE URI. */
  public static String canonicalServiceAccount(String identity) {
    return "spiffe://" + identity;
  }

  /**
   * The protocol of a service port: Kubernetes {@code UDP} is UDP; otherwise the port name's prefix
   * before the first {@code -} ({@code grpc}, {@code http}, {@code http2}, {@code https},
   * {@code mongo}, {@code redis}); anything else is TCP.
   */
  public static Protocol protocol(@Nullable String portName, @Nullable String kubeProtocol) {
    if ("UDP".equals(kubeProtocol)) {
      return Protocol.UDP;
    }
    // Kubernetes defaults an absent protocol to TCP; SCTP has no Istio meaning and stays TCP.
    if (kubeProtocol != null && !kubeProtocol.isEmpty() && !"TCP".equals(kubeProtocol)) {
      return Protocol.TCP;
    }
    return Protocol.fromPortName(portName);
  }

  /** A service port of the model. */
  public static Port port(ServicePort p, String what) {
    String name = p.getName() == null ? "" : p.getName();
    Integer number = p.getPort();
    if (number == null) {
      throw new IllegalArgumentException(what + ": spec.ports '" + name + "': port is missing (expected: 1-65535)");
    }
    if (number < 1 || number > 65535) {
      throw new IllegalArgumentException(
          what + ": spec.ports '" + name + "': port " + number + " (expected: 1-65535)");
    }
    return new Port(name, number, protocol(name, p.getProtocol()));
  }

  /**
   * A Kubernetes Service as a model service: ClusterIP as the address unless {@code None};
   * {@code type: ExternalName} as the external name; no address and not external means load
   * balancing is disabled (headless); the {@code alpha.istio.io/*-serviceaccounts} annotations as
   * its extra identities, sorted.
   *
   * @throws IllegalArgumentException if the object is not a usable service (no name, bad ports);
   *     the message names the object and the field
   */
  public static Service service(io.fabric8.kubernetes.api.model.Service svc, String domain) {
    requireNonNull(svc, "svc");
    requireNonNull(domain, "domain");
    ObjectMeta meta = svc.getMetadata();
    if (meta == null || meta.getName() == null || meta.getName().isEmpty()) {
      throw new IllegalArgumentException("Service: metadata.name is missing");
    }
    String ns = namespace(meta);
    String what = "Service " + ns + "/" + meta.getName();
    checkName(what, "metadata.name", meta.getName());
    checkName(what, "metadata.namespace", ns);
    ServiceSpec spec = svc.getSpec();
    String address = null;
    String external = null;
    List<Port> ports = new ArrayList<>();
    if (spec != null) {
      String clusterIp = spec.getClusterIP();
      if (clusterIp != null && !clusterIp.isEmpty() && !"None".equals(clusterIp)) {
        address = clusterIp;
      }
      if ("ExternalName".equals(spec.getType()) && spec.getExternalName() != null && !spec.getExternalName().isEmpty()) {
        external = spec.getExternalName();
        // An ExternalName service has no VIP even if an old object still carries one.
        address = null;
      }
      if (spec.getPorts() != null) {
        for (ServicePort p : spec.getPorts()) {
          ports.add(port(p, what));
        }
      }
    }
    TreeSet<String> accounts = new TreeSet<>();
    Map<String, String> annotations = meta.getAnnotations();
    Map<String, String> kept = new TreeMap<>();
    if (annotations != null) {
      // Only what Pilot reads: the per-port mutual TLS modes (validated where they are used, so a
      // bad value is reported without dropping the service).
      annotations.forEach((k, v) -> {
        if (k.startsWith(AUTH_ANNOTATION_PREFIX) && v != null) {
          kept.put(k, v);
        }
      });
      for (String csa : splitList(annotations.get(CANONICAL_SERVICE_ACCOUNTS_ANNOTATION))) {
        accounts.add(canonicalServiceAccount(csa));
      }
      for (String ksa : splitList(annotations.get(KUBE_SERVICE_ACCOUNTS_ANNOTATION))) {
        accounts.add(kubeServiceAccount(ksa, ns, domain));
      }
    }
    try {
      return new Service(
          hostname(meta.getName(), ns, domain),
          address,
          ports,
          external,
          List.copyOf(accounts),
          address == null && external == null,
          kept);
    } catch (IllegalArgumentException e) {
      String msg = String.valueOf(e.getMessage());
      String modelPrefix = "service " + hostname(meta.getName(), ns, domain) + ": ";
      throw new IllegalArgumentException(
          what + ": " + (msg.startsWith(modelPrefix) ? msg.substring(modelPrefix.length()) : msg), e);
    }
  }

  // Names become DNS labels of the hostname: a dot or slash would make two objects one hostname.
  static void checkName(String what, String field, String value) {
    if (value.indexOf('.') >= 0 || value.indexOf('/') >= 0 || value.isBlank()) {
      throw new IllegalArgumentException(
          what + ": " + field + " '" + value + "' is not a DNS label (expected: no '.' or '/')");
    }
  }

  // Upstream split on "," and kept empty and padded entries; "a, b" meant " b". Trimming and
  // dropping empties is a deliberate fix (docs/pilot-registries.md).
  private static List<String> splitList(@Nullable String value) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String t = part.strip();
      if (!t.isEmpty()) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The availability zone of a node, {@code <region>/<zone>}, from today's
   * {@code topology.kubernetes.io/*} labels or else 2017's {@code failure-domain.beta.kubernetes.io/*}
   * ones; empty when either part is missing (as upstream).
   */
  public static Optional<String> availabilityZone(@Nullable Node node) {
    if (node == null || node.getMetadata() == null || node.getMetadata().getLabels() == null) {
      return Optional.empty();
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    String region = firstNonEmpty(labels.get(REGION_LABEL), labels.get(LEGACY_REGION_LABEL));
    String zone = firstNonEmpty(labels.get(ZONE_LABEL), labels.get(LEGACY_ZONE_LABEL));
    if (region == null || zone == null) {
      return Optional.empty();
    }
    return Optional.of(region + "/" + zone);
  }

  private static @Nullable String firstNonEmpty(@Nullable String a, @Nullable String b) {
    if (a != null && !a.isEmpty()) {
      return a;
    }
    return b != null && !b.isEmpty() ? b : null;
  }

  /**
   * The SPIFFE identity of a pod: its {@code spec.serviceAccountName}, or {@code default} when the
   * object names none (what the API server's admission fills in).
   */
  public static String podServiceAccount(Pod pod, String domain) {
    String sa = pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName();
    if (sa == null || sa.isEmpty()) {
      sa = pod.getSpec() == null ? null : pod.getSpec().getServiceAccount();
    }
    if (sa == null || sa.isEmpty()) {
      sa = "default";
    }
    return kubeServiceAccount(sa, namespace(pod.getMetadata()), domain);
  }

  /** The labels of a pod. */
  public static Labels podLabels(Pod pod) {
    Map<String, String> l = pod.getMetadata() == null ? null : pod.getMetadata().getLabels();
    if (l == null || l.isEmpty()) {
      return Labels.EMPTY;
    }
    TreeMap<String, String> clean = new TreeMap<>();
    l.forEach((k, v) -> {
      if (k != null) {
        clean.put(k, v == null ? "" : v);
      }
    });
    return Labels.of(clean);
  }

  /** The pod's IP, or null when it has none yet. */
  public static @Nullable String podIp(Pod pod) {
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    return ip == null || ip.isEmpty() ? null : ip;
  }

  /** The name of the node the pod runs on, or null before it is scheduled. */
  public static @Nullable String podNodeName(Pod pod) {
    String n = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    return n == null || n.isEmpty() ? null : n;
  }

  /**
   * The health-check ports of a pod's containers (liveness and readiness probes, HTTP or TCP, and
   * gRPC ones that Kubernetes added later), named {@code mgmt-<port>}, unique by name, sorted by
   * number. A probe naming a container port that does not exist is skipped (upstream logged it).
   */
  public static List<Port> managementPorts(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return List.of();
    }
    TreeMap<String, Port> byName = new TreeMap<>();
    for (Container c : pod.getSpec().getContainers()) {
      for (Probe probe : new Probe[] {c.getLivenessProbe(), c.getReadinessProbe()}) {
        if (probe == null) {
          continue;
        }
        Port p = probePort(c, probe);
        if (p != null) {
          byName.putIfAbsent(p.name(), p);
        }
      }
    }
    List<Port> out = new ArrayList<>(byName.values());
    out.sort((a, b) -> Integer.compare(a.port(), b.port()));
    return List.copyOf(out);
  }

  private static @Nullable Port probePort(Container c, Probe probe) {
    IntOrString target;
    Protocol protocol;
    if (probe.getHttpGet() != null) {
      target = probe.getHttpGet().getPort();
      protocol = Protocol.HTTP;
    } else if (probe.getTcpSocket() != null) {
      target = probe.getTcpSocket().getPort();
      protocol = Protocol.TCP;
    } else if (probe.getGrpc() != null && probe.getGrpc().getPort() != null) {
      target = new IntOrString(probe.getGrpc().getPort());
      protocol = Protocol.GRPC;
    } else {
      return null;
    }
    if (target == null) {
      return null;
    }
    Integer number = target.getIntVal();
    if (number == null && target.getStrVal() != null && c.getPorts() != null) {
      for (ContainerPort cp : c.getPorts()) {
        if (target.getStrVal().equals(cp.getName())) {
          number = cp.getContainerPort();
          break;
        }
      }
    }
    if (number == null || number < 1 || number > 65535) {
      return null;
    }
    return new Port("mgmt-" + number, number, protocol);
  }

  /** What an instance takes from the pod behind an address: labels, zone and identity. */
  public record Workload(Labels labels, @Nullable String availabilityZone, @Nullable String serviceAccount) {
    /** An address with no known pod (a VM, or a pod not seen yet). */
    public static final Workload UNKNOWN = new Workload(Labels.EMPTY, null, null);

    public Workload {
      requireNonNull(labels, "labels");
    }
  }

  /**
   * The instances of a service: each READY address of each subset of its Endpoints, times each
   * port of that subset whose name matches a service port's name. Not-ready addresses and ports
   * with no matching service port are left out; an address's labels, zone and identity come from
   * {@code workloads} (looked up by IP).
   */
  public static List<ServiceInstance> instances(
      Service service, @Nullable Endpoints endpoints, Function<String, Workload> workloads) {
    if (endpoints == null || endpoints.getSubsets() == null) {
      return List.of();
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (EndpointSubset subset : endpoints.getSubsets()) {
      if (subset == null || subset.getAddresses() == null || subset.getPorts() == null) {
        continue;
      }
      for (EndpointAddress a : subset.getAddresses()) {
        if (a == null || a.getIp() == null || a.getIp().isEmpty()) {
          continue;
        }
        Workload w = workloads.apply(a.getIp());
        for (EndpointPort ep : subset.getPorts()) {
          if (ep == null || ep.getPort() == null || ep.getPort() < 1 || ep.getPort() > 65535) {
            continue;
          }
          Optional<Port> sp = service.port(ep.getName() == null ? "" : ep.getName());
          if (sp.isEmpty()) {
            continue;
          }
          out.add(new ServiceInstance(
              new NetworkEndpoint(a.getIp(), ep.getPort(), sp.get()),
              service,
              w.labels(),
              w.availabilityZone(),
              w.serviceAccount()));
        }
      }
    }
    return out;
  }
}
