package io.istio4j.mixer.benchmarks;

import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.v1.CheckRequest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** Realistic requests, shaped like what Envoy's mixer filter (proxy 0.3) sends. */
final class EnvoyRequests {

  private EnvoyRequests() {}

  /** The 30 attributes of an inbound HTTP Check for the Bookinfo ratings service. */
  static Map<String, Object> checkAttributes() {
    Map<String, Object> a = new LinkedHashMap<>();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":authority", "ratings:9080");
    headers.put(":path", "/ratings/0");
    headers.put(":method", "GET");
    headers.put("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
    headers.put("accept", "application/json");
    headers.put("x-request-id", "5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10");
    headers.put("x-b3-traceid", "0000e3b1bc8a1b2f");
    headers.put("x-b3-spanid", "0000e3b1bc8a1b2f");
    headers.put("x-b3-sampled", "1");
    headers.put("x-forwarded-proto", "http");
    headers.put("content-length", "0");
    headers.put("x-envoy-internal", "true");
    a.put("request.headers", headers);
    a.put("request.host", "ratings:9080");
    a.put("request.method", "GET");
    a.put("request.path", "/ratings/0");
    a.put("request.scheme", "http");
    a.put("request.useragent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
    a.put("request.id", "5b0ea0b4-8bc0-9e4c-a6b5-2c7f0e5b3f10");
    a.put("request.time", Instant.parse("2017-11-21T10:15:30.123456789Z"));
    a.put("request.size", 0L);
    a.put("request.referer", "http://productpage:9080/productpage");
    a.put("source.ip", new byte[] {10, 44, 0, 12});
    a.put("source.port", 43512L);
    a.put("source.uid", "kubernetes://reviews-v2-1343845940-b34q5.default");
    a.put("source.user", "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    a.put("source.service", "reviews.default.svc.cluster.local");
    a.put("source.namespace", "default");
    a.put("source.name", "reviews-v2-1343845940-b34q5");
    a.put("source.labels", Map.of("app", "reviews", "version", "v2"));
    a.put("destination.service", "ratings.default.svc.cluster.local");
    a.put("destination.uid", "kubernetes://ratings-v1-3016823457-6jhc5.default");
    a.put("destination.ip", new byte[] {10, 44, 0, 7});
    a.put("destination.port", 9080L);
    a.put("destination.namespace", "default");
    a.put("destination.name", "ratings-v1-3016823457-6jhc5");
    a.put("destination.labels", Map.of("app", "ratings", "version", "v1"));
    a.put("context.protocol", "http");
    a.put("context.time", Instant.parse("2017-11-21T10:15:30.123456789Z"));
    a.put("request.auth.principal", "issuer.example.com/jason");
    a.put("api.protocol", "http");
    a.put("destination.user", "spiffe://cluster.local/ns/default/sa/bookinfo-ratings");
    return a;
  }

  static CheckRequest check() {
    return CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(checkAttributes(), GlobalDictionary.SIZE))
        .setGlobalWordCount(GlobalDictionary.SIZE)
        .setDeduplicationId("2d1f0b1c-6b1e-4e4e-9f0c-3d5c1a7b9e21-17")
        .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(1).setBestEffort(true).build())
        .build();
  }
}
