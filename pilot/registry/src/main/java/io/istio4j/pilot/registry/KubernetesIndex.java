package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.EndpointAddress;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceDiscovery;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model view of a set of Kubernetes objects, kept up to date one object at a time: a change
 * recomputes only the services it touches (an Endpoints object: its own service; a Pod: the
 * services with an endpoint at its IP; a Node: the services with an endpoint on one of its pods).
 *
 * <p>One writer at a time (the registry's thread; writes are synchronized), any number of
 * readers: the read side is concurrent maps of immutable values, so readers never block and
 * never see a half-built list.
 */
final class KubernetesIndex implements ServiceDiscovery {
  private static final Logger log = LoggerFactory.getLogger(KubernetesIndex.class);

  private final String registry;
  private final String domain;

  // Writer-side state (Endpoints by hostname, other namespaced objects by namespace/name): the last seen objects reduced to what the model needs.
  private final Map<String, io.fabric8.kubernetes.api.model.Service> rawServices = new HashMap<>();
  private final Map<String, Endpoints> rawEndpoints = new HashMap<>();
  private final Map<String, PodView> pods = new HashMap<>();
  private final Map<String, String> podKeyByIp = new HashMap<>();
  private final Map<String, Set<String>> podKeysByNode = new HashMap<>();
  private final Map<String, String> zoneByNode = new HashMap<>();
  private final Map<String, Set<String>> hostnamesByIp = new HashMap<>();

  // Reader-side state, values immutable.
  private final ConcurrentHashMap<String, Service> services = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, List<ServiceInstance>> instancesByHost = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Map<String, List<ServiceInstance>>> instancesByIp =
      new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, List<Port>> managementPortsByIp = new ConcurrentHashMap<>();
  private volatile @Nullable List<Service> sortedServices;

  /** What a pod contributes to the model; pods whose view does not change cost nothing. */
  private record PodView(
      String key, @Nullable String ip, @Nullable String nodeName, Labels labels, String serviceAccount,
      List<Port> managementPorts) {}

  KubernetesIndex(String registry, String domain) {
    this.registry = requireNonNull(registry, "registry");
    this.domain = requireNonNull(domain, "domain");
  }

  String domain() {
    return domain;
  }

  /** {@code namespace/name}, the key of namespaced objects (as Kubernetes' informer caches). */
  static String key(@Nullable ObjectMeta meta) {
    String name = meta == null || meta.getName() == null ? "" : meta.getName();
    return KubernetesConversion.namespace(meta) + "/" + name;
  }

  private String hostnameOfKey(String key) {
    int slash = key.indexOf('/');
    return KubernetesConversion.hostname(key.substring(slash + 1), key.substring(0, slash), domain);
  }

  private static boolean ignoredNamespace(String key) {
    return key.startsWith(KubernetesConversion.KUBE_SYSTEM + "/");
  }

  // ---------------------------------------------------------------- writes

  /** Adds or replaces a Service (by namespace/name). */
  synchronized void putService(io.fabric8.kubernetes.api.model.Service svc, List<RegistryEvent> events) {
    String key = key(svc.getMetadata());
    if (ignoredNamespace(key)) {
      return;
    }
    rawServices.put(key, svc);
    String hostname = hostnameOfKey(key);
    Service model;
    try {
      model = KubernetesConversion.service(svc, domain);
    } catch (IllegalArgumentException e) {
      log.warn("{}: ignoring {}", registry, e.getMessage());
      removeServiceModel(hostname, events);
      return;
    }
    Service old = services.put(hostname, model);
    if (!model.equals(old)) {
      sortedServices = null;
      events.add(new RegistryEvent(
          registry, RegistryEvent.Kind.SERVICE, old == null ? EventType.ADD : EventType.UPDATE, hostname));
      recomputeInstances(hostname, events);
    }
  }

  /** Removes the Service with this key ({@code namespace/name}). */
  synchronized void removeService(String key, List<RegistryEvent> events) {
    if (rawServices.remove(key) != null) {
      removeServiceModel(hostnameOfKey(key), events);
    }
  }

  private void removeServiceModel(String hostname, List<RegistryEvent> events) {
    if (services.remove(hostname) != null) {
      sortedServices = null;
      events.add(new RegistryEvent(registry, RegistryEvent.Kind.SERVICE, EventType.DELETE, hostname));
      // Consumers drop a deleted service's endpoints with it: no separate INSTANCES event.
      publishInstances(hostname, List.of());
    }
  }

  /** Adds or replaces an Endpoints object. */
  synchronized void putEndpoints(Endpoints ep, List<RegistryEvent> events) {
    String key = key(ep.getMetadata());
    if (ignoredNamespace(key)) {
      return;
    }
    String hostname = hostnameOfKey(key);
    Endpoints old = rawEndpoints.put(hostname, ep);
    if (ep.equals(old)) {
      return;
    }
    unindexAddresses(old, hostname);
    indexAddresses(ep, hostname);
    recomputeInstances(hostname, events);
  }

  /** Removes the Endpoints object with this key. */
  synchronized void removeEndpoints(String key, List<RegistryEvent> events) {
    String hostname = hostnameOfKey(key);
    Endpoints old = rawEndpoints.remove(hostname);
    if (old != null) {
      unindexAddresses(old, hostname);
      recomputeInstances(hostname, events);
    }
  }

  private void indexAddresses(@Nullable Endpoints ep, String hostname) {
    for (String ip : readyIps(ep)) {
      hostnamesByIp.computeIfAbsent(ip, k -> new HashSet<>()).add(hostname);
    }
  }

  private void unindexAddresses(@Nullable Endpoints ep, String hostname) {
    for (String ip : readyIps(ep)) {
      Set<String> hosts = hostnamesByIp.get(ip);
      if (hosts != null) {
        hosts.remove(hostname);
        if (hosts.isEmpty()) {
          hostnamesByIp.remove(ip);
        }
      }
    }
  }

  private static Set<String> readyIps(@Nullable Endpoints ep) {
    if (ep == null || ep.getSubsets() == null) {
      return Set.of();
    }
    Set<String> out = new HashSet<>();
    for (EndpointSubset s : ep.getSubsets()) {
      if (s != null && s.getAddresses() != null) {
        for (EndpointAddress a : s.getAddresses()) {
          if (a != null && a.getIp() != null && !a.getIp().isEmpty()) {
            out.add(a.getIp());
          }
        }
      }
    }
    return out;
  }

  /** Adds or replaces a Pod. */
  synchronized void putPod(Pod pod, List<RegistryEvent> events) {
    String key = key(pod.getMetadata());
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    // A finished pod's IP is free for reuse: it must not lend its labels to the next pod there.
    String ip = "Succeeded".equals(phase) || "Failed".equals(phase) ? null : KubernetesConversion.podIp(pod);
    PodView view = new PodView(
        key,
        ip,
        KubernetesConversion.podNodeName(pod),
        KubernetesConversion.podLabels(pod),
        KubernetesConversion.podServiceAccount(pod, domain),
        KubernetesConversion.managementPorts(pod));
    PodView old = pods.put(key, view);
    if (view.equals(old)) {
      return; // status-only changes (conditions, container states) are frequent and irrelevant
    }
    unindexPod(old);
    indexPod(view);
    Set<String> ips = new LinkedHashSet<>();
    if (old != null && old.ip() != null) {
      ips.add(old.ip());
    }
    if (view.ip() != null) {
      ips.add(view.ip());
    }
    recomputeIps(ips, events);
  }

  /** Removes the Pod with this key. */
  synchronized void removePod(String key, List<RegistryEvent> events) {
    PodView old = pods.remove(key);
    if (old == null) {
      return;
    }
    unindexPod(old);
    if (old.ip() != null) {
      recomputeIps(Set.of(old.ip()), events);
    }
  }

  private void indexPod(PodView view) {
    if (view.ip() != null) {
      String previous = podKeyByIp.put(view.ip(), view.key());
      if (previous != null && !previous.equals(view.key())) {
        // Host-network pods share their node's IP; the last one seen lends its labels (as upstream).
        log.debug("{}: pods {} and {} share IP {}", registry, previous, view.key(), view.ip());
      }
      if (view.managementPorts().isEmpty()) {
        managementPortsByIp.remove(view.ip());
      } else {
        managementPortsByIp.put(view.ip(), view.managementPorts());
      }
    }
    if (view.nodeName() != null) {
      podKeysByNode.computeIfAbsent(view.nodeName(), k -> new HashSet<>()).add(view.key());
    }
  }

  private void unindexPod(@Nullable PodView old) {
    if (old == null) {
      return;
    }
    if (old.ip() != null && old.key().equals(podKeyByIp.get(old.ip()))) {
      podKeyByIp.remove(old.ip());
      managementPortsByIp.remove(old.ip());
    }
    if (old.nodeName() != null) {
      Set<String> keys = podKeysByNode.get(old.nodeName());
      if (keys != null) {
        keys.remove(old.key());
        if (keys.isEmpty()) {
          podKeysByNode.remove(old.nodeName());
        }
      }
    }
  }

  /** Adds or replaces a Node. */
  synchronized void putNode(Node node, List<RegistryEvent> events) {
    String name = node.getMetadata() == null ? null : node.getMetadata().getName();
    if (name == null || name.isEmpty()) {
      log.warn("{}: ignoring a Node without metadata.name", registry);
      return;
    }
    String zone = KubernetesConversion.availabilityZone(node).orElse("");
    String old = zoneByNode.put(name, zone);
    if (!zone.equals(old == null ? "" : old)) {
      recomputeNode(name, events);
    }
  }

  /** Removes the Node with this name. */
  synchronized void removeNode(String name, List<RegistryEvent> events) {
    String old = zoneByNode.remove(name);
    if (old != null && !old.isEmpty()) {
      recomputeNode(name, events);
    }
  }

  private void recomputeNode(String nodeName, List<RegistryEvent> events) {
    Set<String> ips = new LinkedHashSet<>();
    for (String podKey : podKeysByNode.getOrDefault(nodeName, Set.of())) {
      PodView p = pods.get(podKey);
      if (p != null && p.ip() != null) {
        ips.add(p.ip());
      }
    }
    recomputeIps(ips, events);
  }

  private void recomputeIps(Collection<String> ips, List<RegistryEvent> events) {
    Set<String> hosts = new TreeSet<>();
    for (String ip : ips) {
      hosts.addAll(hostnamesByIp.getOrDefault(ip, Set.of()));
    }
    for (String h : hosts) {
      recomputeInstances(h, events);
    }
  }

  private KubernetesConversion.Workload workload(String ip) {
    String podKey = podKeyByIp.get(ip);
    PodView p = podKey == null ? null : pods.get(podKey);
    if (p == null) {
      return KubernetesConversion.Workload.UNKNOWN;
    }
    String zone = p.nodeName() == null ? null : zoneByNode.get(p.nodeName());
    return new KubernetesConversion.Workload(
        p.labels(), zone == null || zone.isEmpty() ? null : zone, p.serviceAccount());
  }

  private void recomputeInstances(String hostname, List<RegistryEvent> events) {
    Service svc = services.get(hostname);
    List<ServiceInstance> next = svc == null
        ? List.of()
        : List.copyOf(KubernetesConversion.instances(svc, rawEndpoints.get(hostname), this::workload));
    List<ServiceInstance> old = instancesByHost.getOrDefault(hostname, List.of());
    if (next.equals(old)) {
      return;
    }
    boolean endpointsChanged = !sameEndpoints(old, next);
    publishInstances(hostname, next);
    if (endpointsChanged) {
      EventType type = old.isEmpty() ? EventType.ADD : next.isEmpty() ? EventType.DELETE : EventType.UPDATE;
      events.add(new RegistryEvent(registry, RegistryEvent.Kind.INSTANCES, type, hostname));
    }
  }

  // True when only the embedded service differs (already announced by a SERVICE event).
  private static boolean sameEndpoints(List<ServiceInstance> a, List<ServiceInstance> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      ServiceInstance x = a.get(i);
      ServiceInstance y = b.get(i);
      if (!x.endpoint().equals(y.endpoint())
          || !x.labels().equals(y.labels())
          || !Objects.equals(x.availabilityZone(), y.availabilityZone())
          || !Objects.equals(x.serviceAccount(), y.serviceAccount())) {
        return false;
      }
    }
    return true;
  }

  private void publishInstances(String hostname, List<ServiceInstance> next) {
    List<ServiceInstance> old = next.isEmpty() ? instancesByHost.remove(hostname) : instancesByHost.put(hostname, next);
    Map<String, List<ServiceInstance>> byIp = new HashMap<>();
    for (ServiceInstance i : next) {
      byIp.computeIfAbsent(i.endpoint().address(), k -> new ArrayList<>()).add(i);
    }
    Set<String> ips = new HashSet<>(byIp.keySet());
    if (old != null) {
      for (ServiceInstance i : old) {
        ips.add(i.endpoint().address());
      }
    }
    for (String ip : ips) {
      List<ServiceInstance> mine = byIp.get(ip);
      instancesByIp.compute(ip, (k, current) -> {
        TreeMap<String, List<ServiceInstance>> m = current == null ? new TreeMap<>() : new TreeMap<>(current);
        if (mine == null) {
          m.remove(hostname);
        } else {
          m.put(hostname, List.copyOf(mine));
        }
        return m.isEmpty() ? null : Collections.unmodifiableMap(m);
      });
    }
  }

  // ---------------------------------------------------------------- reads

  /** Keys ({@code namespace/name}) of every Service seen, for reconciling against a full listing. */
  synchronized Set<String> serviceKeys() {
    return new HashSet<>(rawServices.keySet());
  }

  synchronized Set<String> endpointsKeys() {
    Set<String> out = new HashSet<>();
    for (Endpoints ep : rawEndpoints.values()) {
      out.add(key(ep.getMetadata()));
    }
    return out;
  }

  synchronized Set<String> podKeys() {
    return new HashSet<>(pods.keySet());
  }

  synchronized Set<String> nodeNames() {
    return new HashSet<>(zoneByNode.keySet());
  }

  @Override
  public List<Service> services() {
    List<Service> s = sortedServices;
    if (s == null) {
      List<Service> list = new ArrayList<>(services.values());
      list.sort(Comparator.comparing(Service::hostname));
      s = List.copyOf(list);
      sortedServices = s;
    }
    return s;
  }

  @Override
  public Optional<Service> service(String hostname) {
    return Optional.ofNullable(services.get(hostname));
  }

  @Override
  public List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels) {
    List<ServiceInstance> all = instancesByHost.getOrDefault(hostname, List.of());
    if (portNames.isEmpty() && labels.sets().isEmpty()) {
      return all;
    }
    List<ServiceInstance> out = new ArrayList<>();
    for (ServiceInstance i : all) {
      if ((portNames.isEmpty() || portNames.contains(i.endpoint().servicePort().name()))
          && labels.hasSubsetOf(i.labels())) {
        out.add(i);
      }
    }
    return out;
  }

  @Override
  public List<ServiceInstance> hostInstances(Collection<String> addresses) {
    List<ServiceInstance> out = new ArrayList<>();
    for (String ip : new LinkedHashSet<>(addresses)) {
      Map<String, List<ServiceInstance>> m = instancesByIp.get(ip);
      if (m != null) {
        m.values().forEach(out::addAll);
      }
    }
    return out;
  }

  @Override
  public List<Port> managementPorts(String address) {
    return managementPortsByIp.getOrDefault(address, List.of());
  }

  @Override
  public List<String> serviceAccounts(String hostname, Set<String> portNames) {
    Service s = services.get(hostname);
    if (s == null) {
      return List.of();
    }
    TreeSet<String> out = new TreeSet<>(s.serviceAccounts());
    for (ServiceInstance i : instances(hostname, portNames, LabelsCollection.ALL)) {
      if (i.serviceAccount() != null) {
        out.add(i.serviceAccount());
      }
    }
    return List.copyOf(out);
  }

  /** Number of instances over all services (for logs and the debug page). */
  int instanceCount() {
    int n = 0;
    for (List<ServiceInstance> l : instancesByHost.values()) {
      n += l.size();
    }
    return n;
  }
}
