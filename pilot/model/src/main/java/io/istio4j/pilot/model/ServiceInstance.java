package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import org.jspecify.annotations.Nullable;

/**
 * One endpoint of a service and what is known about the workload behind it.
 *
 * @param availabilityZone {@code region/zone}, or null when unknown
 * @param serviceAccount the workload's identity as a SPIFFE URI, or null when unknown
 */
public record ServiceInstance(
    NetworkEndpoint endpoint,
    Service service,
    Labels labels,
    @Nullable String availabilityZone,
    @Nullable String serviceAccount) {
  public ServiceInstance {
    requireNonNull(endpoint, "endpoint");
    requireNonNull(service, "service");
    requireNonNull(labels, "labels");
  }
}
