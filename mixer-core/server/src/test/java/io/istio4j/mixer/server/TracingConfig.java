package io.istio4j.mixer.server;

import io.grpc.Metadata;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.ReportRequest;
import java.time.Instant;
import java.util.Map;

/** A config with two Check handlers (list, memquota) and a tracespan rule, for the tracing tests. */
final class TracingConfig {

  private TracingConfig() {}

  static final String YAML = """
      apiVersion: config.istio.io/v1alpha2
      kind: attributemanifest
      metadata: {name: istioproxy, namespace: istio-system}
      spec:
        attributes:
          destination.service: {valueType: STRING}
          source.user: {valueType: STRING}
          request.path: {valueType: STRING}
          request.headers: {valueType: STRING_MAP}
          request.time: {valueType: TIMESTAMP}
          response.time: {valueType: TIMESTAMP}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listchecker
      metadata: {name: callers, namespace: istio-system}
      spec: {overrides: [alice, bob]}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listentry
      metadata: {name: user, namespace: istio-system}
      spec: {value: source.user | ""}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: memquota
      metadata: {name: limits, namespace: istio-system}
      spec:
        quotas: [{name: requestcount.quota.istio-system, maxAmount: 1000000, validDuration: 1s}]
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec: {dimensions: {destination: destination.service | "unknown"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: guarded, namespace: istio-system}
      spec:
        actions:
        - {handler: callers.listchecker, instances: [user.listentry]}
        - {handler: limits.memquota, instances: [requestcount.quota]}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: zipkin
      metadata: {name: proxyspans, namespace: istio-system}
      spec: {serviceName: istio-proxy, serviceNameTag: destination}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: tracespan
      metadata: {name: span, namespace: istio-system}
      spec:
        trace_id: request.headers["x-b3-traceid"]
        span_id: request.headers["x-b3-spanid"]
        parent_span_id: request.headers["x-b3-parentspanid"] | ""
        span_name: request.path | "/"
        start_time: request.time
        end_time: response.time
        span_tags:
          destination: destination.service | "unknown"
          http.path: request.path | ""
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: proxyspans, namespace: istio-system}
      spec:
        match: request.headers["x-b3-traceid"] | "" != ""
        actions:
        - {handler: proxyspans.zipkin, instances: [span.tracespan]}
      """;

  static CheckRequest check(String user) {
    return CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(
            Map.of("destination.service", "ratings.default.svc.cluster.local", "source.user", user), 167))
        .setGlobalWordCount(167)
        .putQuotas("requestcount", CheckRequest.QuotaParams.newBuilder().setAmount(1).build())
        .build();
  }

  /** A Report of one request whose proxy span is {@code spanId} in {@code traceId}. */
  static ReportRequest reportWithSpan(String traceId, String spanId, String parentId, Instant start) {
    return ReportRequest.newBuilder()
        .addAttributes(AttributesEncoder.encode(Map.of(
            "destination.service", "ratings.default.svc.cluster.local",
            "request.path", "/ratings/0",
            "request.headers", Map.of("x-b3-traceid", traceId, "x-b3-spanid", spanId, "x-b3-parentspanid", parentId),
            "request.time", start,
            "response.time", start.plusMillis(7)), 167))
        .setGlobalWordCount(167)
        .build();
  }

  static Metadata b3(String... pairs) {
    Metadata m = new Metadata();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(Metadata.Key.of(pairs[i], Metadata.ASCII_STRING_MARSHALLER), pairs[i + 1]);
    }
    return m;
  }
}
