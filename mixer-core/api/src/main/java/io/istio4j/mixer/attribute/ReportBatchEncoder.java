package io.istio4j.mixer.attribute;

import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
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
  /**
   * The attributes of the records so far, as encoded (normalized): the latest value of each name.
   * Updated in place with the changed values only, so an unchanged attribute is neither copied nor
   * normalized again.
   */
  private final HashMap<String, Object> previous = new HashMap<>();
  private boolean started;
  // The changed attributes of the record being added, in the record's order (reused buffers).
  private String[] changedNames = new String[32];
  private Object[] changedValues = new Object[32];

  /** Starts an empty batch for a client that knows {@code globalWordCount} global words. */
  public ReportBatchEncoder(int globalWordCount) {
    this.globalWordCount = globalWordCount;
    this.dict = new AttributesEncoder.Dictionary(globalWordCount);
  }

  /** Adds a record as a delta; returns false (adding nothing) if it drops an earlier attribute. */
  public boolean add(Map<String, ?> record) {
    // First pass, changing nothing: which attributes changed, and whether one was dropped. A value
    // the same object as (or equal to) the previous record's costs a lookup and a comparison; only
    // changed values are normalized (copied).
    int changed = 0;
    int kept = 0;
    for (Map.Entry<String, ?> e : record.entrySet()) {
      String name = e.getKey();
      Object value = e.getValue();
      Object prev = started ? previous.get(name) : null;
      if (prev != null) {
        kept++;
        if (value == prev || sameAsEncoded(value, prev)) {
          continue;
        }
      }
      Object normalized = value instanceof InetAddress a ? a.getAddress() : MutableAttributeBag.normalize(name, value);
      if (prev != null && same(prev, normalized)) {
        continue;
      }
      if (changed == changedNames.length) {
        changedNames = Arrays.copyOf(changedNames, changed * 2);
        changedValues = Arrays.copyOf(changedValues, changed * 2);
      }
      changedNames[changed] = name;
      changedValues[changed] = normalized;
      changed++;
    }
    if (kept < previous.size()) {
      Arrays.fill(changedValues, 0, changed, null);
      return false; // the record lacks an attribute of the previous one: no delta can say so
    }
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    for (int i = 0; i < changed; i++) {
      AttributesEncoder.putNormalized(b, dict, changedNames[i], changedValues[i]);
      previous.put(changedNames[i], changedValues[i]);
      changedValues[i] = null;
    }
    request.addAttributes(b);
    started = true;
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

  /**
   * Whether {@code value}, not yet normalized, encodes as {@code encoded} (a normalized value):
   * without copying it. False when unsure; the caller then normalizes and compares.
   */
  private static boolean sameAsEncoded(Object value, Object encoded) {
    if (value instanceof String || value instanceof Long || value instanceof Double || value instanceof Boolean
        || value instanceof Instant || value instanceof Duration) {
      return value.equals(encoded);
    }
    if (value instanceof byte[] x) {
      return encoded instanceof byte[] y && Arrays.equals(x, y);
    }
    if (value instanceof Map<?, ?> m) {
      // Equal to the previous (normalized, all-strings) map means all its entries are strings too.
      return encoded instanceof Map<?, ?> && encoded.equals(m);
    }
    return false;
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof byte[] x && b instanceof byte[] y) {
      return Arrays.equals(x, y);
    }
    return Objects.equals(a, b);
  }
}
