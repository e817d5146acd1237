/**
 * The adapter test kit: {@link io.istio4j.adapter.testkit.TestMixer}, an in-memory Mixer with the
 * adapters under test, {@link io.istio4j.adapter.testkit.Scenario}, which runs calls against it
 * and compares results and adapter state with a JSON golden file, and {@link
 * io.istio4j.adapter.testkit.TestEnv}, an {@code Env} for unit-testing a handler on its own.
 */
package io.istio4j.adapter.testkit;
