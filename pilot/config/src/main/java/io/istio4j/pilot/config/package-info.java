/**
 * Pilot's config layer: Kubernetes-shaped YAML and JSON objects ({@code config.istio.io/v1alpha2}
 * RouteRule, DestinationPolicy, EgressRule) parsed into {@link io.istio4j.pilot.model.Config}
 * ({@link io.istio4j.pilot.config.ConfigParser}), Istio 0.2's validation ({@link
 * io.istio4j.pilot.config.ConfigValidator}), the stores {@code fs://DIR} ({@link
 * io.istio4j.pilot.config.FsConfigStore}) and {@code k8s://} ({@link
 * io.istio4j.pilot.config.KubernetesConfigStore}) opened by {@link
 * io.istio4j.pilot.config.ConfigStores#open}, and the directory check behind {@code pilot-discovery
 * validate} ({@link io.istio4j.pilot.config.DirectoryValidator}).
 */
package io.istio4j.pilot.config;
