package io.istio4j.adapters.stackdriver;

import com.google.api.Distribution;
import com.google.api.Metric;
import com.google.api.MetricDescriptor.MetricKind;
import com.google.api.MetricDescriptor.ValueType;
import com.google.api.MonitoredResource;
import com.google.monitoring.v3.Point;
import com.google.monitoring.v3.TimeInterval;
import com.google.monitoring.v3.TimeSeries;
import com.google.monitoring.v3.TypedValue;
import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The time series of one handler, aggregated between pushes. Recording is a map lookup and a short
 * lock on the series' own cell, so any number of request threads record at once and none ever waits
 * for the API: {@link #collect} (the pusher's thread) reads and resets the cells and builds one
 * point per series.
 *
 * <p>GAUGE keeps the last value; DELTA sums since the last push and is written as a CUMULATIVE
 * point reset every push (its interval starts a millisecond after the previous one ended, as Cloud
 * Monitoring requires of a reset); CUMULATIVE sums since the series appeared and keeps that start time for
 * as long as the handler lives. A GAUGE or DELTA series that saw nothing during an interval is
 * forgotten, so the table holds what is active; a CUMULATIVE one is kept (dropping it would reset
 * its start time). At most {@code maxSeries} are held; instances of new series beyond it are
 * refused (the caller counts them).
 */
final class SeriesTable {

  /** Identifies one series: its metric, its label values and its monitored resource. */
  record Key(MetricTarget target, List<String> labelValues, String resourceType, Map<String, String> resourceLabels) {}

  private final ConcurrentHashMap<Key, Cell> cells = new ConcurrentHashMap<>();
  private final AtomicInteger size = new AtomicInteger();
  private final int maxSeries;

  SeriesTable(int maxSeries) {
    this.maxSeries = maxSeries;
  }

  /** Series held now. */
  int size() {
    return size.get();
  }

  /**
   * Adds a numeric observation (or sets a gauge). Returns false when the series is new and the
   * table is full.
   */
  boolean record(Key key, Object value, Instant now) {
    while (true) {
      Cell cell = cells.get(key);
      if (cell == null) {
        if (size.incrementAndGet() > maxSeries) {
          size.decrementAndGet();
          return false;
        }
        Cell fresh = new Cell(key.target(), now);
        cell = cells.putIfAbsent(key, fresh);
        if (cell != null) {
          size.decrementAndGet();
        } else {
          cell = fresh;
        }
      }
      if (cell.add(value)) {
        return true;
      }
      // Retired by collect() between our lookup and the add: look again.
    }
  }

  /** One point per series that has one to give, as of {@code now}; resets what DELTA summed. */
  List<TimeSeries> collect(Instant now) {
    List<TimeSeries> out = new ArrayList<>(cells.size());
    Timestamp end = timestamp(now);
    for (Iterator<Map.Entry<Key, Cell>> it = cells.entrySet().iterator(); it.hasNext();) {
      Map.Entry<Key, Cell> e = it.next();
      Key key = e.getKey();
      TypedValue value;
      Instant start;
      synchronized (e.getValue()) {
        Cell c = e.getValue();
        if (!c.touched && key.target().kind() != MetricKind.CUMULATIVE) {
          c.retired = true;
          it.remove();
          size.decrementAndGet();
          continue;
        }
        if ((key.target().kind() == MetricKind.CUMULATIVE || c.reset) && !now.isAfter(c.start)) {
          continue; // a point needs end > start; it is reported next time
        }
        value = c.value();
        start = c.start;
        c.touched = false;
        if (key.target().kind() == MetricKind.DELTA) {
          c.reset(now);
        }
      }
      TimeInterval.Builder interval = TimeInterval.newBuilder().setEndTime(end);
      if (key.target().kind() != MetricKind.GAUGE) {
        interval.setStartTime(timestamp(start.isBefore(now) ? start : now.minusMillis(1)));
      }
      out.add(TimeSeries.newBuilder()
          .setMetric(Metric.newBuilder().setType(key.target().metricType()).putAllLabels(labels(key)))
          .setResource(MonitoredResource.newBuilder().setType(key.resourceType()).putAllLabels(key.resourceLabels()))
          .setMetricKind(key.target().writtenKind())
          .setValueType(key.target().valueType())
          .addPoints(Point.newBuilder().setInterval(interval).setValue(value))
          .build());
    }
    return out;
  }

  private static Map<String, String> labels(Key key) {
    List<String> keys = key.target().labelKeys();
    if (keys.size() == 1) {
      return Map.of(keys.get(0), key.labelValues().get(0));
    }
    Map<String, String> labels = new HashMap<>(keys.size() * 2);
    for (int i = 0; i < keys.size(); i++) {
      labels.put(keys.get(i), key.labelValues().get(i));
    }
    return labels;
  }

  static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  /** The aggregate of one series; guarded by its own monitor. */
  private static final class Cell {
    private final MetricTarget target;
    private Instant start;
    private boolean touched;
    private boolean retired;
    /** A DELTA cell that has written a point: its start follows that point's end. */
    private boolean reset;
    private double sum;
    private double sumOfSquares;
    private long count;
    private long[] buckets;
    private Object last;

    Cell(MetricTarget target, Instant start) {
      this.target = target;
      this.start = start;
      if (target.valueType() == ValueType.DISTRIBUTION) {
        buckets = new long[target.bucketCount()];
      }
    }

    synchronized boolean add(Object value) {
      if (retired) {
        return false;
      }
      touched = true;
      switch (target.valueType()) {
        case BOOL, STRING -> last = value;
        case DISTRIBUTION -> {
          double v = (Double) value;
          count++;
          sum += v;
          sumOfSquares += v * v;
          buckets[target.bucketOf(v)]++;
        }
        default -> {
          if (target.kind() == MetricKind.GAUGE) {
            last = value;
          } else {
            sum += ((Number) value).doubleValue();
            count++;
          }
        }
      }
      return true;
    }

    void reset(Instant now) {
      // The next interval is written as a CUMULATIVE reset, whose start must be at least a
      // millisecond after the previous point's end.
      start = now.plusMillis(1);
      reset = true;
      sum = 0;
      sumOfSquares = 0;
      count = 0;
      if (buckets != null) {
        Arrays.fill(buckets, 0);
      }
    }

    TypedValue value() {
      TypedValue.Builder v = TypedValue.newBuilder();
      switch (target.valueType()) {
        case BOOL -> v.setBoolValue((Boolean) last);
        case STRING -> v.setStringValue((String) last);
        case INT64 -> v.setInt64Value(target.kind() == MetricKind.GAUGE ? ((Number) last).longValue() : (long) sum);
        case DOUBLE -> v.setDoubleValue(target.kind() == MetricKind.GAUGE ? ((Number) last).doubleValue() : sum);
        case DISTRIBUTION -> {
          Distribution.Builder d = Distribution.newBuilder().setCount(count).setBucketOptions(target.buckets());
          if (count > 0) {
            double mean = sum / count;
            d.setMean(mean).setSumOfSquaredDeviation(Math.max(0, sumOfSquares - sum * mean));
          }
          for (int i = 0; i < buckets.length; i++) {
            d.addBucketCounts(buckets[i]);
          }
          v.setDistributionValue(d);
        }
        default -> throw new IllegalStateException("value type " + target.valueType());
      }
      return v.build();
    }
  }
}
