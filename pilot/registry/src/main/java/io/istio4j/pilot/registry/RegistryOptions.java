package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Registries#open} and {@link RegistryProvider}s need besides the spec itself.
 *
 * @param domain the DNS suffix of hostnames, e.g. {@code cluster.local}
 * @param kubernetesNamespace the only namespace the Kubernetes registry watches, or null for all
 * @param kubernetesClient where the Kubernetes registry gets its client, or null to build one from
 *     the usual places (in-cluster service account, {@code KUBECONFIG}, {@code ~/.kube/config});
 *     a supplied client is not closed by the registry
 * @param filePollInterval how often file registries check their directory
 * @param properties settings for other providers (e.g. a later Consul one's poll period), by name
 */
public record RegistryOptions(
    String domain,
    @Nullable String kubernetesNamespace,
    @Nullable Supplier<KubernetesClient> kubernetesClient,
    Duration filePollInterval,
    Map<String, String> properties) {
  public RegistryOptions {
    requireNonNull(domain, "domain");
    requireNonNull(filePollInterval, "filePollInterval");
    properties = Map.copyOf(requireNonNull(properties, "properties"));
    if (domain.isEmpty()) {
      throw new IllegalArgumentException("registries: domain is empty (expected e.g. cluster.local)");
    }
  }

  /** All namespaces, a client from the environment, files polled every second. */
  public static RegistryOptions of(String domain) {
    return new RegistryOptions(domain, null, null, FileRegistry.Options.DEFAULT_POLL_INTERVAL, Map.of());
  }

  /** A copy with this namespace for the Kubernetes registry (null: all). */
  public RegistryOptions withKubernetesNamespace(@Nullable String namespace) {
    return new RegistryOptions(domain, namespace, kubernetesClient, filePollInterval, properties);
  }

  /** A copy whose Kubernetes registry uses this client. */
  public RegistryOptions withKubernetesClient(@Nullable Supplier<KubernetesClient> client) {
    return new RegistryOptions(domain, kubernetesNamespace, client, filePollInterval, properties);
  }

  /** A copy with this poll interval for file registries. */
  public RegistryOptions withFilePollInterval(Duration interval) {
    return new RegistryOptions(domain, kubernetesNamespace, kubernetesClient, interval, properties);
  }
}
