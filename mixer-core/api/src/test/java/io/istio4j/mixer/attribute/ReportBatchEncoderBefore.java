package io.istio4j.mixer.attribute;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.StringMap;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@link ReportBatchEncoder} as it was before issue 16's fast path (commit b79a8bb): every attribute
 * of every record normalized (copied) into a new map before the comparison with the previous record.
 * The reference the fast path must match byte for byte ({@code ReportBatchEncoderFastPathTest}), and
 * the baseline of {@code MixerClientBenchmark.reportEncodeBaseline}, measured in the same run.
 */
public final class ReportBatchEncoderBefore {

  private final int globalWordCount;
  private final AttributesEncoder.Dictionary dict;
  private final ReportRequest.Builder request = ReportRequest.newBuilder();
  private Map<String, Object> previous;

  /** Starts an empty batch for a client that knows {@code globalWordCount} global words. */
  public ReportBatchEncoderBefore(int globalWordCount) {
    this.globalWordCount = globalWordCount;
    this.dict = new AttributesEncoder.Dictionary(globalWordCount);
  }

  /** Adds a record as a delta; returns false (adding nothing) if it drops an earlier attribute. */
  public boolean add(Map<String, ?> record) {
    if (previous != null && !record.keySet().containsAll(previous.keySet())) {
      return false;
    }
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    Map<String, Object> current = new HashMap<>();
    record.forEach((name, value) -> {
      Object normalized = value instanceof InetAddress a ? a.getAddress()
          : MutableAttributeBag.normalize(name, value);
      current.put(name, normalized);
      if (previous == null || !same(previous.get(name), normalized)) {
        put(b, dict, name, normalized);
      }
    });
    request.addAttributes(b);
    previous = current;
    return true;
  }

  /** The number of records added. */
  public int size() {
    return request.getAttributesCount();
  }

  /** The request holding every record added so far. */
  public ReportRequest build() {
    return request.clone()
        .clearDefaultWords()
        .addAllDefaultWords(dict.words())
        .setGlobalWordCount(globalWordCount)
        .build();
  }

  private static void put(CompressedAttributes.Builder b, AttributesEncoder.Dictionary dict, String name, Object value) {
    requireNonNull(name, "name");
    requireNonNull(value, "value of " + name);
    int n = dict.index(name);
    if (value instanceof InetAddress a) {
      b.putBytes(n, ByteString.copyFrom(a.getAddress()));
      return;
    }
    Object v = MutableAttributeBag.normalize(name, value);
    if (v instanceof String s) {
      b.putStrings(n, dict.index(s));
    } else if (v instanceof Long l) {
      b.putInt64S(n, l);
    } else if (v instanceof Double d) {
      b.putDoubles(n, d);
    } else if (v instanceof Boolean z) {
      b.putBools(n, z);
    } else if (v instanceof Instant t) {
      b.putTimestamps(n, Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build());
    } else if (v instanceof Duration d) {
      b.putDurations(n, com.google.protobuf.Duration.newBuilder()
          .setSeconds(d.getSeconds()).setNanos(d.getNano()).build());
    } else if (v instanceof byte[] bytes) {
      b.putBytes(n, ByteString.copyFrom(bytes));
    } else {
      StringMap.Builder m = StringMap.newBuilder();
      ((Map<?, ?>) v).forEach((k, val) -> m.putEntries(dict.index((String) k), dict.index((String) val)));
      b.putStringMaps(n, m.build());
    }
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof byte[] x && b instanceof byte[] y) {
      return Arrays.equals(x, y);
    }
    return Objects.equals(a, b);
  }
}
