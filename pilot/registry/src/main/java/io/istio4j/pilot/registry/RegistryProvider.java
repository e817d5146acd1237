package io.istio4j.pilot.registry;

import io.istio4j.pilot.model.ServiceRegistry;

/**
 * Makes one kind of registry from one element of {@code --registries}. Built in: {@code file}
 * ({@code file://DIR}) and {@code kubernetes}; others plug in by implementing this interface and
 * listing the class in {@code META-INF/services/io.istio4j.pilot.registry.RegistryProvider}, as
 * {@link EurekaRegistryProvider} ({@code eureka://}) and {@link ConsulRegistryProvider}
 * ({@code consul://}) do.
 *
 * <pre>{@code
 * public final class ConsulRegistryProvider implements RegistryProvider {
 *   public String name() { return "consul"; }           // --registries consul://127.0.0.1:8500
 *   public ServiceRegistry open(String spec, RegistryOptions options) {
 *     return new ConsulRegistry(URI.create("http" + spec.substring("consul".length())), options);
 *   }
 * }
 * }</pre>
 */
public interface RegistryProvider {
  /**
   * The lower-case name this provider answers to: an element {@code NAME} or {@code NAME://...}
   * of {@code --registries}, compared case-insensitively (so {@code Kubernetes} works as in 0.2).
   */
  String name();

  /** A short description of the accepted form, for error messages, e.g. {@code file://DIR}. */
  default String usage() {
    return name();
  }

  /**
   * A registry for this element (not started).
   *
   * @param spec the element as given, e.g. {@code file:///etc/istio/services}
   * @throws IllegalArgumentException when the element is malformed; the message says what was expected
   */
  ServiceRegistry open(String spec, RegistryOptions options);
}
