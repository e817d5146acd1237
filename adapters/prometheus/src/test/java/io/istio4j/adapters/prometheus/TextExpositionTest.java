package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapters.prometheus.config.Params.MetricInfo.Kind;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TextExpositionTest {

  static ExposedMetric metric(String name, Kind kind, List<Double> bounds, String... labels) {
    return new ExposedMetric(new MetricDefinition(name, name + " help", kind, List.of(labels), bounds));
  }

  static String write(ExposedMetric... metrics) {
    StringBuilder out = new StringBuilder();
    TextExposition.write(List.of(metrics), out);
    return out.toString();
  }

  /** The samples of a text exposition: series (name and labels, as written) to value. */
  static Map<String, Double> samples(String text) {
    Map<String, Double> samples = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1).replace("Inf", "Infinity")));
    }
    return samples;
  }

  static String libraryText(ExposedMetric... metrics) throws Exception {
    MetricSnapshots.Builder snapshots = MetricSnapshots.builder();
    for (ExposedMetric m : metrics) {
      snapshots.metricSnapshot(m.collect());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, snapshots.build(), EscapingScheme.ALLOW_UTF8);
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void countersKeepTheirConfiguredNameWithoutTotal() {
    ExposedMetric count = metric("istio_request_count", Kind.COUNTER, List.of(), "response_code");
    count.series(LabelValues.of(200L)).accept(5);
    assertThat(write(count)).isEqualTo("""
        # HELP istio_request_count istio_request_count help
        # TYPE istio_request_count counter
        istio_request_count{response_code="200"} 5
        """);
  }

  @Test
  void theSamplesAreTheClientLibrarysOwnExceptForTheCounterSuffix() throws Exception {
    ExposedMetric count = metric("istio_request_count", Kind.COUNTER, List.of(), "source", "code");
    ExposedMetric inflight = metric("istio_inflight", Kind.GAUGE, List.of(), "source");
    ExposedMetric size = metric("istio_request_size", Kind.DISTRIBUTION,
        List.of(1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8), "source");
    count.series(LabelValues.of("a", 200L)).accept(3);
    count.series(LabelValues.of("b", 503L)).accept(0.5);
    inflight.series(LabelValues.of("a")).accept(-2.25);
    for (double v : new double[] {0, 1, 7, 12_345, 2e8}) {
      size.series(LabelValues.of("a")).accept(v);
    }

    Map<String, Double> ours = samples(write(count, inflight, size));
    Map<String, Double> library = new TreeMap<>();
    // The library writes its own (neutral) metric name and counters with _total; map those to ours.
    samples(libraryText(count)).forEach((k, v) -> library.put(k.replace("istio_adapter_metric_total", "istio_request_count"), v));
    samples(libraryText(inflight)).forEach((k, v) -> library.put(k.replace("istio_adapter_metric", "istio_inflight"), v));
    samples(libraryText(size)).forEach((k, v) -> library.put(k.replace("istio_adapter_metric", "istio_request_size"), v));
    assertThat(normalizeLe(ours)).isEqualTo(normalizeLe(library));
    assertThat(ours).containsEntry("istio_request_size_bucket{source=\"a\",le=\"1e+08\"}", 4.0)
        .containsEntry("istio_request_size_bucket{source=\"a\",le=\"+Inf\"}", 5.0)
        .containsEntry("istio_request_size_count{source=\"a\"}", 5.0)
        .containsEntry("istio_request_size_sum{source=\"a\"}", 200_012_353.0)
        .containsEntry("istio_request_count{code=\"503\",source=\"b\"}", 0.5)
        .containsEntry("istio_inflight{source=\"a\"}", -2.25);
  }

  /** le bounds as numbers, since the library writes 1.0E8 where Go wrote 1e+08. */
  static Map<String, Double> normalizeLe(Map<String, Double> samples) {
    Map<String, Double> out = new TreeMap<>();
    samples.forEach((k, v) -> {
      Matcher m = Pattern.compile("le=\"([^\"]+)\"").matcher(k);
      out.put(m.find() && !m.group(1).equals("+Inf")
          ? m.replaceFirst("le=\"" + Double.parseDouble(m.group(1)) + "\"") : k, v);
    });
    return out;
  }

  @Test
  void familiesAreSortedByNameAndSeriesByLabelValues() {
    ExposedMetric b = metric("istio_b", Kind.GAUGE, List.of(), "x");
    ExposedMetric a = metric("istio_a", Kind.GAUGE, List.of(), "x");
    b.series(LabelValues.of("2")).accept(1);
    b.series(LabelValues.of("1")).accept(1);
    a.series(LabelValues.of("z")).accept(1);
    StringBuilder out = new StringBuilder();
    TextExposition.write(List.of(a, b), out);
    assertThat(out.toString()).isEqualTo("""
        # HELP istio_a istio_a help
        # TYPE istio_a gauge
        istio_a{x="z"} 1
        # HELP istio_b istio_b help
        # TYPE istio_b gauge
        istio_b{x="1"} 1
        istio_b{x="2"} 1
        """);
  }

  @Test
  void helpAndLabelValuesAreEscaped() {
    ExposedMetric m = new ExposedMetric(new MetricDefinition("istio_m", "a \\ \"help\"\nline", Kind.GAUGE,
        List.of("v"), List.of()));
    m.series(LabelValues.of("back\\slash \"quote\"\nnewline")).accept(1);
    assertThat(write(m)).isEqualTo("# HELP istio_m a \\\\ \"help\"\\nline\n# TYPE istio_m gauge\n"
        + "istio_m{v=\"back\\\\slash \\\"quote\\\"\\nnewline\"} 1\n");
  }

  @Test
  void metricsWithNothingRecordedAreLeftOut() {
    assertThat(write(metric("istio_empty", Kind.COUNTER, List.of()),
        metric("istio_empty_labels", Kind.COUNTER, List.of(), "x"))).isEmpty();
  }

  @Test
  void namesTheClientLibraryReservesAreExposedAsConfigured() {
    ExposedMetric m = metric("istio_bytes_total", Kind.COUNTER, List.of());
    m.series(LabelValues.of()).accept(1);
    ExposedMetric g = metric("istio_x_bucket", Kind.GAUGE, List.of());
    g.series(LabelValues.of()).accept(2);
    assertThat(write(m, g)).contains("istio_bytes_total 1\n").contains("istio_x_bucket 2\n");
  }
}
