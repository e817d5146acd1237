/**
 * The adapter test kit: {@link io.istio4j.adapter.testkit.TestMixer}, an in-memory Mixer with the
 * adapters under test, and {@link io.istio4j.adapter.testkit.Scenario}, which runs calls against it
 * and compares results and adapter state with a JSON golden file.
 */
package io.istio4j.adapter.testkit;
