package io.istio4j.mixer.attribute;

import java.util.function.Consumer;

/**
 * A {@code ReportRequest} whose records are decoded one at a time as they are processed, so a
 * large batch never holds more than one decoded record.
 *
 * <pre>{@code
 * RequestDecoder.decodeReport(bytes).forEachRecord(bag -> runtime.report(bag));
 * }</pre>
 */
public final class DecodedReportRequest {

  private final byte[] buf;
  private final int[] recordOff;
  private final int[] recordLen;
  private final int recordCount;
  private final int[] defaultWords;
  private final int defaultWordCount;
  private final int globalWordCount;
  private final DecodeLimits limits;

  DecodedReportRequest(byte[] buf, int[] recordOff, int[] recordLen, int recordCount,
      int[] defaultWords, int defaultWordCount, int globalWordCount,
      DecodeLimits limits) {
    this.buf = buf;
    this.recordOff = recordOff;
    this.recordLen = recordLen;
    this.recordCount = recordCount;
    this.defaultWords = defaultWords;
    this.defaultWordCount = defaultWordCount;
    this.globalWordCount = globalWordCount;
    this.limits = limits;
  }

  /** The number of records (reported actions) in the request. */
  public int recordCount() {
    return recordCount;
  }

  /** The number of global words the client knows. */
  public int globalWordCount() {
    return globalWordCount;
  }

  /**
   * Decodes each record on top of the ones before it and hands the full resulting bag to
   * {@code consumer}, which must finish with it before returning: the same bag is updated for the
   * next record.
   *
   * <p>Record 0 is read like Check (bad entries are left out). A later record with an index
   * outside both dictionaries throws an {@link AttributeDecodeException} whose message starts with
   * {@link AttributeDecodeException#INVALID_ATTRIBUTES_PREFIX}; the records before it have been
   * processed.
   */
  public void forEachRecord(Consumer<? super MutableAttributeBag> consumer) {
    MutableAttributeBag bag = new MutableAttributeBag();
    for (int i = 0; i < recordCount; i++) {
      CompressedAttributeBag record = CompressedAttributeBag.parse(buf, recordOff[i], recordLen[i],
          limits, defaultWords, defaultWordCount);
      try {
        record.resolve(i > 0);
      } catch (AttributeDecodeException e) {
        throw AttributeDecodeException.invalidIndex("record " + i + ": " + e.detail());
      }
      bag.apply(record);
      bag.references().clear();
      consumer.accept(bag);
    }
  }
}
