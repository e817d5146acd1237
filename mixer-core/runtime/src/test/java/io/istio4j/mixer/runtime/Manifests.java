package io.istio4j.mixer.runtime;

import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.expr.ExpressionCompiler;
import java.util.Map;

/** A manifest with one attribute of every type, for tests. */
final class Manifests {
  static final Map<String, ValueType> MANIFEST = Map.ofEntries(
      Map.entry("source.service", ValueType.STRING),
      Map.entry("destination.service", ValueType.STRING),
      Map.entry("source.user", ValueType.STRING),
      Map.entry("request.size", ValueType.INT64),
      Map.entry("response.code", ValueType.INT64),
      Map.entry("request.time", ValueType.TIMESTAMP),
      Map.entry("response.time", ValueType.TIMESTAMP),
      Map.entry("response.duration", ValueType.DURATION),
      Map.entry("source.ip", ValueType.IP_ADDRESS),
      Map.entry("request.headers", ValueType.STRING_MAP),
      Map.entry("check.cache_hit", ValueType.BOOL),
      Map.entry("request.ratio", ValueType.DOUBLE),
      Map.entry("request.api_key", ValueType.STRING));

  static final ExpressionFieldCompiler FIELDS = new ExpressionFieldCompiler(ExpressionCompiler.of(MANIFEST));

  private Manifests() {}
}
