package io.istio4j.adapters.prometheus;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import java.util.List;

/**
 * What a metric is exposed as: two handlers (or a handler and its rebuilt successor) whose
 * definitions of one name are equal share the metric and its counts; a different definition of the
 * name replaces it.
 *
 * <pre>{@code
 * new MetricDefinition("istio_request_count", "request_count", Kind.COUNTER,
 *     List.of("destination_service", "response_code"), List.of());
 * }</pre>
 *
 * @param name the exposed name, {@code istio_} plus the sanitized configured name
 * @param help the description, or the configured name when there is none
 * @param kind COUNTER, GAUGE or DISTRIBUTION
 * @param labelNames the sanitized label names, in configured order
 * @param bounds a DISTRIBUTION's finite bucket upper bounds, increasing; empty for other kinds
 */
record MetricDefinition(String name, String help, Kind kind, List<String> labelNames, List<Double> bounds) {

  MetricDefinition {
    requireNonNull(name, "name");
    requireNonNull(help, "help");
    requireNonNull(kind, "kind");
    labelNames = List.copyOf(labelNames);
    bounds = List.copyOf(bounds);
  }

  /** The text format's type: {@code counter}, {@code gauge} or {@code histogram}. */
  String type() {
    return switch (kind) {
      case COUNTER -> "counter";
      case GAUGE -> "gauge";
      case DISTRIBUTION -> "histogram";
      default -> throw new IllegalStateException("kind: " + kind + " (expected: COUNTER, GAUGE or DISTRIBUTION)");
    };
  }
}
