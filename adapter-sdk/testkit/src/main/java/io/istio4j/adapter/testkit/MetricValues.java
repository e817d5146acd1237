package io.istio4j.adapter.testkit;

import static java.util.Objects.requireNonNull;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.Arrays;

/** Reads adapter metrics back from the registry Mixer binds them to, for {@link TestEnv} and {@link TestMixer}. */
final class MetricValues {

  private MetricValues() {}

  static double counter(PrometheusRegistry registry, String name, String[] labels) {
    return sum(registry, CounterSnapshot.class, name, labels);
  }

  static double gauge(PrometheusRegistry registry, String name, String[] labels) {
    return sum(registry, GaugeSnapshot.class, name, labels);
  }

  private static double sum(PrometheusRegistry registry, Class<? extends MetricSnapshot> kind, String name,
      String[] labels) {
    requireNonNull(name, "name");
    requireNonNull(labels, "labels");
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels: " + Arrays.toString(labels) + " (expected: name/value pairs)");
    }
    // The client library drops a counter's _total suffix from the name it keeps.
    String exposed = kind == CounterSnapshot.class && name.endsWith("_total")
        ? name.substring(0, name.length() - "_total".length()) : name;
    double sum = 0;
    for (MetricSnapshot metric : registry.scrape()) {
      if (!kind.isInstance(metric) || !metric.getMetadata().getName().equals(exposed)) {
        continue;
      }
      for (DataPointSnapshot point : metric.getDataPoints()) {
        if (hasLabels(point.getLabels(), labels)) {
          sum += point instanceof CounterSnapshot.CounterDataPointSnapshot c
              ? c.getValue() : ((GaugeSnapshot.GaugeDataPointSnapshot) point).getValue();
        }
      }
    }
    return sum;
  }

  private static boolean hasLabels(Labels have, String[] want) {
    for (int i = 0; i < want.length; i += 2) {
      if (!want[i + 1].equals(have.get(want[i]))) {
        return false;
      }
    }
    return true;
  }
}
