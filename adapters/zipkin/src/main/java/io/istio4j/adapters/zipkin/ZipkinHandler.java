package io.istio4j.adapters.zipkin;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.adapter.ReportedSpan;
import io.istio4j.template.tracespan.TraceSpanHandler;
import io.istio4j.template.tracespan.TraceSpanInstance;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns tracespan instances into spans on Mixer's reporter. Ids are taken as B3 writes them (hex,
 * either case); an instance whose ids are malformed, or whose times are missing, is skipped and
 * counted rather than failing the Report, since one bad span should not cost the batch.
 */
final class ZipkinHandler implements TraceSpanHandler {

  private final Env env;
  private final String serviceName;
  private final String serviceNameTag;
  private final Counter spans;
  private final RateLimitedLogger invalid;

  ZipkinHandler(Env env, String serviceName, String serviceNameTag) {
    this.env = env;
    this.serviceName = serviceName;
    this.serviceNameTag = serviceNameTag;
    this.spans = env.metrics().counter("zipkin_tracespans_total",
        "tracespan instances by outcome: reported, dropped (no reporter or queue full), invalid", "result");
    this.invalid = RateLimitedLogger.of(env.logger());
  }

  @Override
  public void handleTraceSpan(List<TraceSpanInstance> instances) {
    for (TraceSpanInstance i : instances) {
      ReportedSpan span;
      try {
        span = toSpan(i);
      } catch (IllegalArgumentException e) {
        spans.labelValues("invalid").inc();
        invalid.warn("tracespan instance {} skipped: {}", LogText.escape(i.name()), LogText.escape(e.getMessage()));
        continue;
      }
      spans.labelValues(env.reportSpan(span) ? "reported" : "dropped").inc();
    }
  }

  ReportedSpan toSpan(TraceSpanInstance i) {
    Map<String, String> tags = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : i.spanTags().entrySet()) {
      if (e.getValue() != null) {
        tags.put(e.getKey(), GoValues.format(e.getValue()));
      }
    }
    String service = serviceName;
    if (!serviceNameTag.isEmpty()) {
      String tagged = tags.get(serviceNameTag);
      if (tagged != null && !tagged.isEmpty()) {
        service = tagged;
      }
    }
    Instant start = i.startTime();
    Instant end = i.endTime();
    if (start.equals(Instant.EPOCH)) {
      throw new IllegalArgumentException("startTime: not set (expected: when the span started)");
    }
    if (end.isBefore(start)) {
      end = start; // a clock step on the proxy; keep the span, zero length
    }
    return new ReportedSpan(lower(i.traceId()), lower(i.spanId()),
        i.parentSpanId().isEmpty() ? null : lower(i.parentSpanId()),
        i.spanName().isEmpty() ? "unknown" : i.spanName(), service, start, end, tags);
  }

  private static String lower(String id) {
    return id.toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {}
}
