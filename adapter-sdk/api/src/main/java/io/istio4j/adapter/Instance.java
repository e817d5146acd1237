package io.istio4j.adapter;

/**
 * A template instance handed to a handler: the values of one configured instance, evaluated
 * against one request's attributes. Each template's generated {@code <Name>Instance} record
 * implements this.
 *
 * <pre>{@code
 * for (MetricInstance metric : instances) {
 *   log.debug("{} = {}", metric.name(), metric.value());   // "requestcount.metric.istio-system"
 * }
 * }</pre>
 */
public interface Instance {

  /** The fully qualified name of the instance, {@code <name>.<template>.<namespace>}. */
  String name();
}
