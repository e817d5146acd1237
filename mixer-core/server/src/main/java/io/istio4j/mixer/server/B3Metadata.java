package io.istio4j.mixer.server;

import brave.propagation.SamplingFlags;
import brave.propagation.TraceContext;
import brave.propagation.TraceContextOrSamplingFlags;
import io.grpc.Metadata;
import org.jspecify.annotations.Nullable;

/**
 * Reads B3 trace headers from a call's gRPC metadata: the multi-header form ({@code x-b3-traceid},
 * {@code x-b3-spanid}, {@code x-b3-parentspanid}, {@code x-b3-sampled}, {@code x-b3-flags}) that
 * Envoy copies from the inbound request, and the single {@code b3} header, which wins when both are
 * present. Ids must be exactly as B3 writes them (a 16 or 32 hex character trace id, 16 character
 * span ids, not all zero); anything else is malformed, and the call then starts a new trace rather
 * than failing (the count is on /metrics).
 */
final class B3Metadata {

  static final Metadata.Key<String> TRACE_ID = key("x-b3-traceid");
  static final Metadata.Key<String> SPAN_ID = key("x-b3-spanid");
  static final Metadata.Key<String> PARENT_SPAN_ID = key("x-b3-parentspanid");
  static final Metadata.Key<String> SAMPLED = key("x-b3-sampled");
  static final Metadata.Key<String> FLAGS = key("x-b3-flags");
  static final Metadata.Key<String> SINGLE = key("b3");

  /** What the headers said: nothing, a context or sampling flags to continue, or garbage. */
  record Extracted(@Nullable TraceContextOrSamplingFlags value, boolean malformed) {
    static final Extracted NONE = new Extracted(null, false);
    static final Extracted MALFORMED = new Extracted(null, true);
  }

  private B3Metadata() {}

  private static Metadata.Key<String> key(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }

  static Extracted extract(Metadata headers) {
    String single = headers.get(SINGLE);
    if (single != null) {
      return parseSingle(single);
    }
    String traceId = headers.get(TRACE_ID);
    String spanId = headers.get(SPAN_ID);
    String sampledText = headers.get(SAMPLED);
    String flags = headers.get(FLAGS);
    boolean debug = "1".equals(flags);
    if (flags != null && !debug && !"0".equals(flags)) {
      return Extracted.MALFORMED;
    }
    Boolean sampled = null;
    if (sampledText != null) {
      switch (sampledText) {
        case "1", "true", "d" -> sampled = Boolean.TRUE;
        case "0", "false" -> sampled = Boolean.FALSE;
        default -> {
          return Extracted.MALFORMED;
        }
      }
    }
    if (traceId == null && spanId == null) {
      if (sampled == null && !debug) {
        return headers.get(PARENT_SPAN_ID) == null ? Extracted.NONE : Extracted.MALFORMED;
      }
      return new Extracted(TraceContextOrSamplingFlags.create(flags(sampled, debug)), false);
    }
    if (traceId == null || spanId == null) {
      return Extracted.MALFORMED;
    }
    TraceContext context = context(traceId, spanId, headers.get(PARENT_SPAN_ID), sampled, debug);
    return context == null ? Extracted.MALFORMED : new Extracted(TraceContextOrSamplingFlags.create(context), false);
  }

  /** {@code b3: {traceid}-{spanid}[-{sampled}[-{parentspanid}]]}, or {@code b3: {sampled}} alone. */
  static Extracted parseSingle(String value) {
    if (value.length() > 16 + 32 + 16 + 5) { // the longest valid value is 68 characters
      return Extracted.MALFORMED;
    }
    String[] parts = value.split("-", -1);
    if (parts.length == 1) {
      return switch (parts[0]) {
        case "0" -> new Extracted(TraceContextOrSamplingFlags.create(SamplingFlags.NOT_SAMPLED), false);
        case "1" -> new Extracted(TraceContextOrSamplingFlags.create(SamplingFlags.SAMPLED), false);
        case "d" -> new Extracted(TraceContextOrSamplingFlags.create(SamplingFlags.DEBUG), false);
        default -> Extracted.MALFORMED;
      };
    }
    if (parts.length > 4) {
      return Extracted.MALFORMED;
    }
    Boolean sampled = null;
    boolean debug = false;
    if (parts.length >= 3) {
      switch (parts[2]) {
        case "1" -> sampled = Boolean.TRUE;
        case "0" -> sampled = Boolean.FALSE;
        case "d" -> debug = true;
        default -> {
          return Extracted.MALFORMED;
        }
      }
    }
    TraceContext context = context(parts[0], parts[1], parts.length == 4 ? parts[3] : null, sampled, debug);
    return context == null ? Extracted.MALFORMED : new Extracted(TraceContextOrSamplingFlags.create(context), false);
  }

  private static SamplingFlags flags(Boolean sampled, boolean debug) {
    if (debug) {
      return SamplingFlags.DEBUG;
    }
    return Boolean.TRUE.equals(sampled) ? SamplingFlags.SAMPLED : SamplingFlags.NOT_SAMPLED;
  }

  /** A context from the ids, or null when any is malformed. */
  private static @Nullable TraceContext context(String traceId, String spanId, @Nullable String parentId,
      @Nullable Boolean sampled, boolean debug) {
    int n = traceId.length();
    if (n != 16 && n != 32 || spanId.length() != 16 || parentId != null && parentId.length() != 16) {
      return null;
    }
    if (!isHex(traceId) || !isHex(spanId) || parentId != null && !isHex(parentId)) {
      return null;
    }
    long high = n == 32 ? hex(traceId, 0) : 0;
    long low = hex(traceId, n - 16);
    long span = hex(spanId, 0);
    long parent = parentId == null ? 0 : hex(parentId, 0);
    if (high == 0 && low == 0 || span == 0 || parentId != null && parent == 0) {
      return null;
    }
    TraceContext.Builder b = TraceContext.newBuilder().traceIdHigh(high).traceId(low).spanId(span);
    if (parent != 0) {
      b.parentId(parent);
    }
    if (debug) {
      b.debug(true);
    } else if (sampled != null) {
      b.sampled(sampled);
    }
    return b.build();
  }

  private static boolean isHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (digit(s.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /** 16 hex digits from {@code offset} as a long; the digits are checked already. */
  private static long hex(String s, int offset) {
    long v = 0;
    for (int i = offset; i < offset + 16; i++) {
      v = v << 4 | digit(s.charAt(i));
    }
    return v;
  }

  /** An ASCII hex digit's value, or -1 (Character.digit would take other scripts' digits too). */
  private static int digit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
