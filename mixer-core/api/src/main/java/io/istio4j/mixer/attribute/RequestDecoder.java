package io.istio4j.mixer.attribute;

import io.istio4j.mixer.attribute.DecodedCheckRequest.QuotaParams;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes {@code istio.mixer.v1} requests straight from their serialized bytes into attribute bags,
 * without building protobuf message objects. Follows protobuf's rules: unknown fields (and fields
 * with an unexpected wire type) are skipped, the last of repeated map keys wins, missing fields take
 * their defaults.
 *
 * <pre>{@code
 * DecodedCheckRequest check = RequestDecoder.decodeCheck(bytes);
 * DecodedReportRequest report = RequestDecoder.decodeReport(bytes, DecodeLimits.DEFAULT);
 * }</pre>
 */
public final class RequestDecoder {

  private RequestDecoder() {}

  /** Decodes a CheckRequest with the default limits. */
  public static DecodedCheckRequest decodeCheck(byte[] message) {
    return decodeCheck(message, DecodeLimits.DEFAULT);
  }

  /**
   * Decodes a CheckRequest. Attributes with indexes outside both dictionaries are left out of the
   * bag (Check never fails for them); malformed bytes and requests over {@code limits} throw
   * {@link AttributeDecodeException}.
   */
  public static DecodedCheckRequest decodeCheck(byte[] message, DecodeLimits limits) {
    WireReader r = new WireReader(message, 0, message.length);
    CompressedAttributeBag attributes = null;
    int globalWordCount = 0;
    int dedupOff = 0;
    int dedupLen = 0;
    Map<String, QuotaParams> quotas = Map.of();
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag) {
        case 1 << 3 | WireReader.LENGTH_DELIMITED -> {
          int n = r.readLength();
          // protobuf would merge repeated occurrences of a message field; clients send one.
          attributes = CompressedAttributeBag.parse(message, r.pos, n, limits);
          r.pos += n;
        }
        case 2 << 3 | WireReader.VARINT -> globalWordCount = (int) r.readVarint64();
        case 3 << 3 | WireReader.LENGTH_DELIMITED -> {
          dedupLen = r.readLength(); // checked for UTF-8 when read (DecodedCheckRequest)
          dedupOff = r.pos;
          r.pos += dedupLen;
        }
        case 4 << 3 | WireReader.LENGTH_DELIMITED -> {
          quotas = readQuota(r, quotas);
          if (quotas.size() > limits.maxQuotas()) {
            throw AttributeDecodeException.limit("more than " + limits.maxQuotas() + " quotas in one Check");
          }
        }
        default -> r.skipField(tag);
      }
    }
    if (attributes == null) {
      attributes = CompressedAttributeBag.parse(message, 0, 0, limits);
    }
    attributes.resolve(false);
    return new DecodedCheckRequest(attributes, globalWordCount, message, dedupOff, dedupLen, quotas);
  }

  /** Reads one quotas map entry; the common single quota costs no LinkedHashMap. */
  private static Map<String, QuotaParams> readQuota(WireReader r, Map<String, QuotaParams> quotas) {
    int outer = r.pushLimit();
    String name = "";
    long amount = 0;
    boolean bestEffort = false;
    while (r.hasMore()) {
      int tag = r.readTag();
      if (tag == (1 << 3 | WireReader.LENGTH_DELIMITED)) {
        name = readQuotaName(r);
      } else if (tag == (2 << 3 | WireReader.LENGTH_DELIMITED)) {
        int params = r.pushLimit();
        while (r.hasMore()) {
          int t = r.readTag();
          if (t == (1 << 3 | WireReader.VARINT)) {
            amount = r.readVarint64();
          } else if (t == (2 << 3 | WireReader.VARINT)) {
            bestEffort = r.readVarint64() != 0;
          } else {
            r.skipField(t);
          }
        }
        r.popLimit(params);
      } else {
        r.skipField(tag);
      }
    }
    r.popLimit(outer);
    QuotaParams p = new QuotaParams(amount, bestEffort);
    if (quotas.isEmpty()) {
      return Map.of(name, p);
    }
    Map<String, QuotaParams> m = quotas instanceof LinkedHashMap ? quotas : new LinkedHashMap<>(quotas);
    m.put(name, p);
    return m;
  }

  private record QuotaName(String name, byte[] utf8) {}

  // Proxies ask for the same quota name on every Check (Envoy: "RequestCount"): reuse its String.
  private static volatile QuotaName lastQuotaName =
      new QuotaName("RequestCount", "RequestCount".getBytes(StandardCharsets.UTF_8));

  private static String readQuotaName(WireReader r) {
    int n = r.readLength();
    QuotaName last = lastQuotaName;
    if (n == last.utf8.length && Arrays.equals(last.utf8, 0, n, r.buf, r.pos, r.pos + n)) {
      r.pos += n;
      return last.name;
    }
    r.pos -= varintSize(n);
    String name = readString(r, "quota name");
    lastQuotaName = new QuotaName(name, name.getBytes(StandardCharsets.UTF_8));
    return name;
  }

  private static int varintSize(int n) {
    int size = 1;
    while ((n >>>= 7) != 0) {
      size++;
    }
    return size;
  }

  /** Decodes a ReportRequest with the default limits. */
  public static DecodedReportRequest decodeReport(byte[] message) {
    return decodeReport(message, DecodeLimits.DEFAULT);
  }

  /**
   * Reads the structure of a ReportRequest; records are decoded when processed, see
   * {@link DecodedReportRequest#forEachRecord}. Malformed bytes and requests over {@code limits}
   * throw {@link AttributeDecodeException}.
   */
  public static DecodedReportRequest decodeReport(byte[] message, DecodeLimits limits) {
    WireReader r = new WireReader(message, 0, message.length);
    int[] recOff = new int[4];
    int[] recLen = new int[4];
    int recCount = 0;
    int[] words = new int[16]; // offset, length pairs
    int wordCount = 0;
    int globalWordCount = 0;
    while (r.hasMore()) {
      int tag = r.readTag();
      switch (tag) {
        case 1 << 3 | WireReader.LENGTH_DELIMITED -> {
          if (recCount == limits.maxReportRecords()) {
            throw AttributeDecodeException.limit(
                "more than " + limits.maxReportRecords() + " records in one report");
          }
          if (recCount == recOff.length) {
            recOff = Arrays.copyOf(recOff, recCount * 2);
            recLen = Arrays.copyOf(recLen, recCount * 2);
          }
          int n = r.readLength();
          recOff[recCount] = r.pos;
          recLen[recCount++] = n;
          r.pos += n;
        }
        case 2 << 3 | WireReader.LENGTH_DELIMITED -> {
          if (wordCount == limits.maxWords()) {
            throw AttributeDecodeException.limit(
                "more than " + limits.maxWords() + " words in default_words");
          }
          if (2 * wordCount == words.length) {
            words = Arrays.copyOf(words, words.length * 2);
          }
          int n = r.readLength();
          if (!WireReader.isValidUtf8(message, r.pos, r.pos + n)) {
            throw AttributeDecodeException.malformed("default_words[" + wordCount + "] is not valid UTF-8");
          }
          words[2 * wordCount] = r.pos;
          words[2 * wordCount++ + 1] = n;
          r.pos += n;
        }
        case 3 << 3 | WireReader.VARINT -> globalWordCount = (int) r.readVarint64();
        default -> r.skipField(tag);
      }
    }
    // Check the structure of every record now, so a malformed record fails the call before any
    // record is processed.
    for (int i = 0; i < recCount; i++) {
      CompressedAttributeBag.parse(message, recOff[i], recLen[i], limits);
    }
    return new DecodedReportRequest(message, recOff, recLen, recCount, words, wordCount,
        globalWordCount, limits);
  }

  private static String readString(WireReader r, String what) {
    int n = r.readLength();
    if (!WireReader.isValidUtf8(r.buf, r.pos, r.pos + n)) {
      throw AttributeDecodeException.malformed(what + " is not valid UTF-8");
    }
    String s = new String(r.buf, r.pos, n, StandardCharsets.UTF_8);
    r.pos += n;
    return s;
  }
}
