package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A finished span recorded elsewhere (by a proxy, say) that an adapter hands to Mixer's trace
 * reporter with {@link Env#reportSpan(ReportedSpan)}: the tracespan adapter turns tracespan
 * instances into these. Ids are lower-case hex as B3 carries them: a 16- or 32-character trace id
 * and 16-character span ids, none all zeros.
 *
 * <pre>{@code
 * env.reportSpan(new ReportedSpan("463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312", null,
 *     "GET /productpage", "productpage", start, end, Map.of("http.status_code", "200")));
 * }</pre>
 *
 * @param traceId the trace's id, 16 or 32 hex characters
 * @param spanId the span's id, 16 hex characters
 * @param parentSpanId the parent span's id, 16 hex characters, or null for a root span
 * @param name the operation the span covers
 * @param serviceName the service that recorded the span (Zipkin's local endpoint)
 * @param start when the span started
 * @param end when the span ended, not before {@code start}
 * @param tags the span's tags
 */
public record ReportedSpan(
    String traceId,
    String spanId,
    @Nullable String parentSpanId,
    String name,
    String serviceName,
    Instant start,
    Instant end,
    Map<String, String> tags) {

  /** Checks the ids and times; the message names the field and what was expected. */
  public ReportedSpan {
    checkId("traceId", requireNonNull(traceId, "traceId"), true);
    checkId("spanId", requireNonNull(spanId, "spanId"), false);
    if (parentSpanId != null && parentSpanId.isEmpty()) {
      parentSpanId = null;
    }
    if (parentSpanId != null) {
      checkId("parentSpanId", parentSpanId, false);
    }
    requireNonNull(name, "name");
    requireNonNull(serviceName, "serviceName");
    requireNonNull(start, "start");
    requireNonNull(end, "end");
    if (end.isBefore(start)) {
      throw new IllegalArgumentException("end: " + end + " (expected: not before start " + start + ")");
    }
    tags = Map.copyOf(requireNonNull(tags, "tags"));
  }

  private static void checkId(String field, String id, boolean trace) {
    boolean lengthOk = trace ? id.length() == 16 || id.length() == 32 : id.length() == 16;
    boolean nonZero = false;
    for (int i = 0; lengthOk && i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        lengthOk = false;
      }
      nonZero |= c != '0';
    }
    if (!lengthOk || !nonZero) {
      String shown = id.length() > 40 ? id.substring(0, 40) + "..." : id;
      throw new IllegalArgumentException(field + ": \"" + LogText.escape(shown) + "\" (expected: "
          + (trace ? "16 or 32" : "16") + " lower-case hex characters, not all zero)");
    }
  }
}
