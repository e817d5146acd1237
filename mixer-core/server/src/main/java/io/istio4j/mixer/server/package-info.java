/**
 * The Mixer server ({@code mixs}): gRPC API, monitoring port and command line.
 *
 * <p>Internal to Mixer: not API for adapter authors, who reach Mixer only through the adapter SDK
 * and, in tests, the test kit. May change in any release without notice (see {@link
 * io.istio4j.adapter.Internal}).
 */
@Internal
package io.istio4j.mixer.server;

import io.istio4j.adapter.Internal;
