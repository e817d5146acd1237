/**
 * The Java Mixer client: what Envoy's mixer filter and mixerclient do for a sidecar, as a library a
 * Java service depends on.
 *
 * <p>Start at {@link io.istio4j.mixerclient.MixerClient}: build one per process, {@code check} before
 * serving a request and {@code report} after. {@link io.istio4j.mixerclient.Attributes} holds a
 * request's attributes. The subpackages make a service a Mixer client without code of its own:
 * {@link io.istio4j.mixerclient.grpc.MixerServerInterceptor} for gRPC services and
 * {@link io.istio4j.mixerclient.servlet.MixerFilter} for Servlet containers.
 *
 * <pre>{@code
 * MixerClient mixer = MixerClient.builder().target("istio-mixer:9091").build();
 * Server server = ServerBuilder.forPort(8080)
 *     .addService(ServerInterceptors.intercept(myService,
 *         new MixerServerInterceptor(mixer, "ratings.default.svc.cluster.local")))
 *     .build();
 * }</pre>
 */
package io.istio4j.mixerclient;
