package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.junit.jupiter.api.Test;

class RegistryAdapterMetricsTest {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final RegistryAdapterMetrics metrics = new RegistryAdapterMetrics(registry);

  @Test
  void aCounterSeriesReachesTheRegistryAsTheSameChildEachTime() {
    Counter failures = metrics.counter("acme_failures", "Failures", "backend", "reason");
    Counter.Child down = failures.labelValues("redis:6379", "unreachable");
    down.inc();
    down.inc(2.5);

    assertThat(failures.labelValues("redis:6379", "unreachable")).isSameAs(down);
    assertThat(value("acme_failures", "redis:6379", "unreachable")).isEqualTo(3.5);
  }

  @Test
  void theSeriesKeepsItsValuesWhenTheCallerReusesItsArray() {
    Counter c = metrics.counter("acme_lines", "Lines", "output");
    String[] values = {"stdout"};
    Counter.Child stdout = c.labelValues(values);
    values[0] = "file";
    c.labelValues(values).inc();
    stdout.inc();

    assertThat(value("acme_lines", "stdout")).isEqualTo(1);
    assertThat(value("acme_lines", "file")).isEqualTo(1);
  }

  @Test
  void aCounterWithoutLabelsCountsDirectly() {
    metrics.counter("acme_starts", "Starts").inc();
    metrics.counter("acme_starts", "Starts").inc(2);
    assertThat(value("acme_starts")).isEqualTo(3);
  }

  @Test
  void aGaugeGoesUpAndDown() {
    Gauge.Child queued = metrics.gauge("acme_queued", "Queued", "output").labelValues("stdout");
    queued.set(5);
    queued.inc();
    queued.dec(3);
    queued.dec();
    assertThat(value("acme_queued", "stdout")).isEqualTo(2);
    metrics.gauge("acme_size", "Size").set(7);
    assertThat(value("acme_size")).isEqualTo(7);
  }

  @Test
  void theWrongNumberOfLabelValuesIsRefusedWithTheExpectedCount() {
    Counter c = metrics.counter("acme_drops", "Drops", "reason");
    assertThatThrownBy(() -> c.labelValues("a", "b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[a, b]").hasMessageContaining("expected: 1 value(s)");
    assertThatThrownBy(c::inc).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> c.labelValues((String) null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void aNegativeIncrementOfACounterIsRefused() {
    Counter.Child c = metrics.counter("acme_bytes", "Bytes", "output").labelValues("stdout");
    assertThatThrownBy(() -> c.inc(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void oneNameWithAnotherKindOrOtherLabelsIsRefused() {
    metrics.counter("acme_drops", "Drops", "reason");
    assertThat(metrics.counter("acme_drops", "Drops", "reason")).isSameAs(metrics.counter("acme_drops", "x", "reason"));
    assertThatThrownBy(() -> metrics.gauge("acme_drops", "Drops", "reason")).hasMessageContaining("already a counter");
    assertThatThrownBy(() -> metrics.counter("acme_drops", "Drops", "output")).hasMessageContaining("labels [reason]");
  }

  private double value(String name, String... labelValues) {
    for (MetricSnapshot m : registry.scrape()) {
      if (!m.getMetadata().getName().equals(name)) {
        continue;
      }
      for (DataPointSnapshot p : m.getDataPoints()) {
        boolean match = p.getLabels().size() == labelValues.length;
        for (int i = 0; match && i < labelValues.length; i++) {
          match = p.getLabels().getValue(i).equals(labelValues[i]);
        }
        if (match) {
          return p instanceof CounterSnapshot.CounterDataPointSnapshot c
              ? c.getValue() : ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue();
        }
      }
    }
    return 0;
  }
}
