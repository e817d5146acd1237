/**
 * Makes a gRPC service a Mixer client: {@link io.istio4j.mixerclient.grpc.MixerServerInterceptor}
 * checks each call with Mixer before the service sees it and reports it afterwards.
 *
 * <pre>{@code
 * ServerInterceptors.intercept(service, new MixerServerInterceptor(mixer, "ratings.default.svc.cluster.local"));
 * }</pre>
 */
package io.istio4j.mixerclient.grpc;
