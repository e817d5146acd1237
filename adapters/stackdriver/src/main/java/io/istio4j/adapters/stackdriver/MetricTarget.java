package io.istio4j.adapters.stackdriver;

import com.google.api.Distribution.BucketOptions;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import java.util.List;

/**
 * A validated {@code metric_info} entry: where a metric instance's values go.
 *
 * @param instance the metric instance's fully qualified name
 * @param metricType {@code custom.googleapis.com/<instance>}
 * @param kind GAUGE, DELTA or CUMULATIVE, as configured (how values are aggregated)
 * @param valueType BOOL, INT64, DOUBLE, STRING or DISTRIBUTION
 * @param labelKeys the instance's dimensions, in sorted order: the metric's labels
 * @param buckets the bucket options of a DISTRIBUTION (else the default instance)
 * @param bounds the finite bucket bounds of a DISTRIBUTION, increasing
 */
record MetricTarget(String instance, String metricType, MetricKind kind, ValueType valueType,
    List<String> labelKeys, BucketOptions buckets, double[] bounds) {

  /**
   * The kind written to Cloud Monitoring. It refuses DELTA for user-defined metrics ("the DELTA
   * metric kind is not supported for custom metrics"), so a DELTA metric is written as CUMULATIVE
   * whose start time is reset every push: each point still holds one interval's sum.
   */
  MetricKind writtenKind() {
    return kind == MetricKind.DELTA ? MetricKind.CUMULATIVE : kind;
  }

  /** Buckets of the series: one underflow, the finite ones, one overflow. */
  int bucketCount() {
    return bounds.length + 1;
  }

  /** The index of the bucket holding {@code v}: bucket i holds [bounds[i-1], bounds[i]). */
  int bucketOf(double v) {
    int lo = 0;
    int hi = bounds.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (v < bounds[mid]) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }
}
