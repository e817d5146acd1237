/**
 * Makes a Servlet application a Mixer client: {@link io.istio4j.mixerclient.servlet.MixerFilter}
 * checks each HTTP request with Mixer (403, 429, ... with Mixer's message when denied) and reports it
 * after the response.
 *
 * <pre>{@code
 * context.addFilter(new FilterHolder(new MixerFilter(mixer, "productpage.default.svc.cluster.local")),
 *     "/*", EnumSet.of(DispatcherType.REQUEST));
 * }</pre>
 */
package io.istio4j.mixerclient.servlet;
