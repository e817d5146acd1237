package io.istio4j.pilot.model;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** What services exist and where their instances are: the read side of a registry. */
public interface ServiceDiscovery {
  /** Every service. */
  List<Service> services();

  /** The service with this hostname. */
  Optional<Service> service(String hostname);

  /**
   * The instances of a service on the named ports (every port when {@code portNames} is empty)
   * whose labels match {@code labels} ({@link LabelsCollection#hasSubsetOf}).
   */
  List<ServiceInstance> instances(String hostname, Set<String> portNames, LabelsCollection labels);

  /** The instances running at any of these IP addresses (the workloads next to a proxy). */
  List<ServiceInstance> hostInstances(Collection<String> addresses);

  /** Health-check (management) ports of the workload at this IP, which a sidecar must not capture. */
  default List<Port> managementPorts(String address) {
    return List.of();
  }

  /**
   * The identities (SPIFFE URIs) a client must accept from the servers of this service on these
   * ports: the accounts of the current instances plus the service's declared ones.
   */
  default List<String> serviceAccounts(String hostname, Set<String> portNames) {
    // Registries that know more (declared accounts) override this; a registry that only wraps
    // instances must not answer "none", which would leave clients unpinned.
    TreeSet<String> out = new TreeSet<>();
    for (ServiceInstance i : instances(hostname, portNames, LabelsCollection.ALL)) {
      if (i.serviceAccount() != null && !i.serviceAccount().isEmpty()) {
        out.add(i.serviceAccount());
      }
    }
    return List.copyOf(out);
  }
}
