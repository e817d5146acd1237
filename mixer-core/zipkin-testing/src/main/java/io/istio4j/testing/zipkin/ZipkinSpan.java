package io.istio4j.testing.zipkin;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One span as Zipkin's API v2 returns it, with the fields tests look at.
 *
 * @param traceId the trace id, lower-case hex
 * @param id the span's id
 * @param parentId the parent's id, or null for a root span
 * @param name the span's name (Zipkin lower-cases it)
 * @param kind SERVER, CLIENT, ... or null
 * @param serviceName the local endpoint's service name, or null
 * @param tags the span's tags
 */
public record ZipkinSpan(String traceId, String id, @Nullable String parentId, String name, @Nullable String kind,
    @Nullable String serviceName, Map<String, String> tags) {}
