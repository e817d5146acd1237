/**
 * A real Zipkin for tests: {@link io.istio4j.testing.zipkin.ZipkinServer} starts the
 * {@code io.zipkin:zipkin-server} exec jar as its own JVM on a free port and reads traces back.
 */
@NullMarked
package io.istio4j.testing.zipkin;

import org.jspecify.annotations.NullMarked;
