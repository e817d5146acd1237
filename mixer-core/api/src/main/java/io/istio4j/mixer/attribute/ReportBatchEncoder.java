package io.istio4j.mixer.attribute;

import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Builds a batched {@code ReportRequest} the way mixerclient does: all records share one dictionary
 * sent as {@code default_words}, and each record holds only what changed since the previous one.
 * Deleting an attribute cannot be expressed as a delta, so {@link #add} refuses a record that lacks
 * an attribute the previous record had; the caller then sends this batch and starts a new one.
 *
 * <pre>{@code
 * ReportBatchEncoder batch = new ReportBatchEncoder(GlobalDictionary.SIZE);
 * for (Map<String, Object> record : records) {
 *   if (!batch.add(record)) {
 *     send(batch.build());
 *     batch = new ReportBatchEncoder(GlobalDictionary.SIZE);
 *     batch.add(record);
 *   }
 * }
 * }</pre>
 */
public final class ReportBatchEncoder {

  private final int globalWordCount;
  private final AttributesEncoder.Dictionary dict;
  private final ReportRequest.Builder request = ReportRequest.newBuilder();
  private Map<String, Object> previous;

  /** Starts an empty batch for a client that knows {@code globalWordCount} global words. */
  public ReportBatchEncoder(int globalWordCount) {
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
        AttributesEncoder.put(b, dict, name, normalized);
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

  private static boolean same(Object a, Object b) {
    if (a instanceof byte[] x && b instanceof byte[] y) {
      return Arrays.equals(x, y);
    }
    return Objects.equals(a, b);
  }
}
