/**
 * The attribute expression language: parsing, type checking against an attribute manifest, and
 * compilation to closures over attribute slots.
 *
 * <p>Internal to Mixer: not API for adapter authors, who reach Mixer only through the adapter SDK
 * and, in tests, the test kit. May change in any release without notice (see {@link
 * io.istio4j.adapter.Internal}).
 */
@Internal
package io.istio4j.mixer.expr;

import io.istio4j.adapter.Internal;
