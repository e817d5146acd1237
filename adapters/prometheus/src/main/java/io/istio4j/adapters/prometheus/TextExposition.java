package io.istio4j.adapters.prometheus;

import io.istio4j.adapter.GoValues;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Writes metrics in the Prometheus text format 0.0.4 the way upstream's client_golang did, with
 * the configured names unchanged. The Java client's own writers append {@code _total} to every
 * counter ({@code istio_request_count_total}); Istio 0.2's dashboards and alerts query {@code
 * istio_request_count}, so this adapter writes its registry itself. The format allows a counter
 * without the suffix: {@code # TYPE istio_request_count counter} then {@code
 * istio_request_count{...} 5}.
 *
 * <p>Families are sorted by name and series by label values; labels are sorted by name with {@code
 * le} last; floats are Go's shortest {@code 'g'} format ({@code 1}, {@code 0.005}, {@code 1e+08},
 * {@code +Inf}). A metric nothing was recorded into is left out, as client_golang left out empty
 * vectors.
 */
final class TextExposition {

  /** The content type of this format. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final Comparator<DataPointSnapshot> BY_LABELS = (a, b) -> compare(a.getLabels(), b.getLabels());

  private TextExposition() {}

  /** Appends the exposition of {@code metrics} (already sorted by name) to {@code out}. */
  static void write(List<ExposedMetric> metrics, StringBuilder out) {
    for (ExposedMetric metric : metrics) {
      if (metric.cachedKeys() == 0) {
        continue; // nothing recorded (the client would show a label-less metric as 0 already)
      }
      MetricSnapshot snapshot = metric.collect();
      MetricDefinition def = metric.definition();
      String name = def.name();
      out.append("# HELP ").append(name).append(' ');
      escape(def.help(), false, out);
      out.append('\n').append("# TYPE ").append(name).append(' ').append(def.type()).append('\n');
      List<DataPointSnapshot> points = new ArrayList<>(snapshot.getDataPoints());
      points.sort(BY_LABELS);
      for (DataPointSnapshot point : points) {
        if (point instanceof CounterDataPointSnapshot c) {
          sample(out, name, point.getLabels(), null, GoValues.float64(c.getValue()));
        } else if (point instanceof GaugeDataPointSnapshot g) {
          sample(out, name, point.getLabels(), null, GoValues.float64(g.getValue()));
        } else if (point instanceof HistogramDataPointSnapshot h) {
          histogram(out, name, h);
        }
      }
    }
  }

  private static void histogram(StringBuilder out, String name, HistogramDataPointSnapshot h) {
    ClassicHistogramBuckets buckets = h.getClassicBuckets();
    long cumulative = 0;
    for (int i = 0; i < buckets.size(); i++) {
      cumulative += buckets.getCount(i);
      sample(out, name + "_bucket", h.getLabels(), GoValues.float64(buckets.getUpperBound(i)),
          Long.toString(cumulative));
    }
    sample(out, name + "_sum", h.getLabels(), null, GoValues.float64(h.hasSum() ? h.getSum() : 0));
    sample(out, name + "_count", h.getLabels(), null, Long.toString(h.hasCount() ? h.getCount() : cumulative));
  }

  private static void sample(StringBuilder out, String name, Labels labels, String le, String value) {
    out.append(name);
    if (labels.size() > 0 || le != null) {
      out.append('{');
      for (int i = 0; i < labels.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        out.append(labels.getName(i)).append("=\"");
        escape(labels.getValue(i), true, out);
        out.append('"');
      }
      if (le != null) {
        out.append(labels.size() > 0 ? "," : "").append("le=\"").append(le).append('"');
      }
      out.append('}');
    }
    out.append(' ').append(value).append('\n');
  }

  /** The format's escaping: backslash and newline, and in label values the double quote. */
  private static void escape(String s, boolean labelValue, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '"' -> out.append(labelValue ? "\\\"" : "\"");
        default -> out.append(c);
      }
    }
  }

  private static int compare(Labels a, Labels b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      int c = a.getValue(i).compareTo(b.getValue(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.size(), b.size());
  }
}
