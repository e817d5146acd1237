/**
 * Mixer on Kubernetes: the {@code config.istio.io/v1alpha2} kinds of a build and their
 * CustomResourceDefinitions ({@code mixs crds}), the {@code k8s://} config store, and the
 * validating admission webhook ({@code mixs validator}).
 *
 * <p>Internal to Mixer: not API for adapter authors. May change in any release without notice
 * (see {@link io.istio4j.adapter.Internal}).
 */
@Internal
package io.istio4j.mixer.server.kubernetes;

import io.istio4j.adapter.Internal;
