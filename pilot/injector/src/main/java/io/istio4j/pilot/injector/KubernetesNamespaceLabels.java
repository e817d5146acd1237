package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Namespaces' labels from the Kubernetes API: an informer on Namespaces, so a review reads a local
 * cache and never waits on the API server (the API server is waiting on the webhook). A namespace
 * the cache does not know yet (created a moment ago) is answered with null: the injector's policy.
 */
public final class KubernetesNamespaceLabels implements NamespaceLabels, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(KubernetesNamespaceLabels.class);

  private final SharedIndexInformer<Namespace> informer;

  private KubernetesNamespaceLabels(SharedIndexInformer<Namespace> informer) {
    this.informer = informer;
  }

  /**
   * Starts watching Namespaces and waits until they are listed.
   *
   * @throws IllegalStateException naming the problem when they cannot be listed within {@code timeout}
   *     (no API server access, RBAC without {@code list namespaces})
   */
  public static KubernetesNamespaceLabels start(KubernetesClient client, Duration timeout) {
    requireNonNull(client, "client");
    requireNonNull(timeout, "timeout");
    SharedIndexInformer<Namespace> informer = client.namespaces().runnableInformer(0);
    informer.exceptionHandler((started, t) -> {
      log.warn("injector: watching Namespaces failed ({}); retrying", String.valueOf(t.getMessage()));
      return true;
    });
    try {
      informer.start().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      informer.close();
      throw new IllegalStateException("--watchNamespaces: cannot list Namespaces: " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      informer.close();
      throw new IllegalStateException("--watchNamespaces: Namespaces not listed within " + timeout
          + " (expected: API server access and RBAC allowing list and watch on namespaces)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      informer.close();
      throw new IllegalStateException("--watchNamespaces: interrupted while listing Namespaces", e);
    }
    log.info("injector: watching Namespaces for the {} label ({} listed)", SidecarInjector.NAMESPACE_LABEL,
        informer.getStore().list().size());
    return new KubernetesNamespaceLabels(informer);
  }

  @Override
  public @Nullable Map<String, String> labels(String namespace) {
    Namespace ns = informer.getStore().getByKey(namespace);
    if (ns == null || ns.getMetadata() == null) {
      return null;
    }
    Map<String, String> labels = ns.getMetadata().getLabels();
    return labels == null ? Map.of() : labels;
  }

  @Override
  public void close() {
    informer.close();
  }
}
