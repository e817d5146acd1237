package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Timestamp;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.StringMap;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Property tests: random bytes and random messages never make the decoder throw anything but a
 * clear {@link AttributeDecodeException}, and random valid messages decode to exactly what
 * protobuf-java's own parser reads from them.
 */
class DecoderFuzzTest {

  private static final String[] WORD_POOL = {
      "destination.service", "request.headers", "x-user", "GET", "test.custom", "ünïcødé", "",
      "a", "source.ip", "'200'", "200", "test.other", "日本語", "request.size", "response.code",
  };

  @Test
  void randomBytesOnlyEverFailWithADecodeError() {
    Random rnd = new Random(20171121);
    int accepted = 0;
    for (int i = 0; i < 30_000; i++) {
      byte[] b = new byte[rnd.nextInt(120)];
      rnd.nextBytes(b);
      accepted += exercise(b);
    }
    // Some random inputs are valid messages (e.g. the empty one); most are not.
    assertThat(accepted).isPositive().isLessThan(30_000);
  }

  @Test
  void mutatedValidRequestsOnlyEverFailWithADecodeError() {
    Random rnd = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      byte[] valid = randomCheck(rnd).toByteArray();
      byte[] b = mutate(rnd, valid);
      exercise(b);
      byte[] report = ReportRequest.newBuilder()
          .addAttributes(randomAttributes(rnd, new HashSet<>()))
          .addAttributes(randomAttributes(rnd, new HashSet<>()))
          .addDefaultWords("test.custom").build().toByteArray();
      exercise(mutate(rnd, report));
    }
  }

  @Test
  void randomValidMessagesDecodeAsProtobufReadsThem() throws Exception {
    Random rnd = new Random(7);
    for (int i = 0; i < 20_000; i++) {
      CompressedAttributes a = randomAttributes(rnd, new HashSet<>());
      byte[] bytes = a.toByteArray();
      CompressedAttributes parsed = CompressedAttributes.parseFrom(bytes);
      Map<String, Object> expected = reference(parsed, parsed.getWordsList());
      Map<String, Object> actual = CompressedAttributeBag.decode(bytes).toMap();
      assertThat(normalize(actual)).as("message %s", parsed).isEqualTo(normalize(expected));
    }
  }

  @Test
  void nonCanonicalEncodingsDecodeAsProtobufReadsThem() throws Exception {
    // The same messages as above, written as other serializers may: padded varints, value before
    // key, a field written twice, empty entries, words after the entries that use them.
    Random rnd = new Random(11);
    for (int i = 0; i < 20_000; i++) {
      CompressedAttributes a = randomAttributes(rnd, new HashSet<>());
      byte[] bytes = reencode(rnd, a.toByteArray());
      CompressedAttributes parsed = CompressedAttributes.parseFrom(bytes);
      Map<String, Object> expected = reference(parsed, parsed.getWordsList());
      Map<String, Object> actual = CompressedAttributeBag.decode(bytes).toMap();
      assertThat(normalize(actual)).as("bytes %s", HexFormat.of().formatHex(bytes))
          .isEqualTo(normalize(expected));
    }
  }

  /** Rewrites canonical CompressedAttributes bytes into an equivalent, non-canonical encoding. */
  private static byte[] reencode(Random rnd, byte[] canonical) throws Exception {
    CodedInputStream in = CodedInputStream.newInstance(canonical);
    ByteArrayOutputStream words = new ByteArrayOutputStream();
    ByteArrayOutputStream entries = new ByteArrayOutputStream();
    int tag;
    while ((tag = in.readTag()) != 0) {
      byte[] payload = in.readByteArray();
      if (tag >>> 3 == 1) {
        writeField(rnd, words, tag, payload);
        continue;
      }
      // A map entry: its key (field 1) and value (field 2) fields, rewritten.
      CodedInputStream e = CodedInputStream.newInstance(payload);
      ByteArrayOutputStream key = new ByteArrayOutputStream();
      ByteArrayOutputStream value = new ByteArrayOutputStream();
      int t;
      while ((t = e.readTag()) != 0) {
        ByteArrayOutputStream out = t >>> 3 == 1 ? key : value;
        switch (t & 7) {
          case 0 -> {
            out.write(t);
            writeVarint(out, e.readRawVarint64(), rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(3) : 0);
          }
          case 1 -> {
            out.write(t);
            out.write(e.readRawBytes(8));
          }
          default -> writeField(rnd, out, t, e.readByteArray());
        }
      }
      ByteArrayOutputStream entry = new ByteArrayOutputStream();
      if (rnd.nextInt(8) == 0 && key.size() > 0) {
        entry.write(0x08); // a key written twice: the last one counts
        writeVarint(entry, rnd.nextInt(40), 0);
      }
      boolean valueFirst = rnd.nextInt(4) == 0;
      entry.write((valueFirst ? value : key).toByteArray());
      entry.write((valueFirst ? key : value).toByteArray());
      writeField(rnd, entries, tag, entry.toByteArray());
      if (rnd.nextInt(20) == 0) {
        writeField(rnd, entries, tag & ~7 | 2, new byte[0]); // an empty entry: key 0, default value
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    boolean wordsLast = rnd.nextBoolean();
    out.write((wordsLast ? entries : words).toByteArray());
    out.write((wordsLast ? words : entries).toByteArray());
    return out.toByteArray();
  }

  private static void writeField(Random rnd, ByteArrayOutputStream out, int tag, byte[] payload) {
    out.write(tag);
    writeVarint(out, payload.length, rnd.nextInt(6) == 0 ? 1 : 0);
    out.writeBytes(payload);
  }

  /**
   * A varint with {@code pad} redundant continuation bytes, padded to at most 9 bytes: protobuf-java
   * reads a 10-byte varint ending in 0x00 with bit 63 set, unlike the wire format (and Go), so the
   * reference would be wrong there.
   */
  private static void writeVarint(ByteArrayOutputStream out, long v, int pad) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    do {
      b.write((int) (v & 0x7f) | 0x80);
      v >>>= 7;
    } while (v != 0);
    byte[] bytes = b.toByteArray();
    int n = bytes.length + pad <= 9 ? bytes.length + pad : bytes.length;
    for (int i = 0; i < n; i++) {
      out.write(i < bytes.length ? (i == n - 1 ? bytes[i] & 0x7f : bytes[i] & 0xff) : (i == n - 1 ? 0 : 0x80));
    }
  }

  @Test
  void utf8ValidationAgreesWithTheJdk() {
    Random rnd = new Random(3);
    for (int i = 0; i < 100_000; i++) {
      byte[] b = new byte[rnd.nextInt(8)];
      for (int j = 0; j < b.length; j++) {
        b[j] = (byte) (rnd.nextBoolean() ? 0x80 + rnd.nextInt(0x80) : rnd.nextInt(256));
      }
      boolean jdk;
      try {
        StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
        jdk = true;
      } catch (CharacterCodingException e) {
        jdk = false;
      }
      assertThat(WireReader.isValidUtf8(b, 0, b.length)).as(Arrays.toString(b)).isEqualTo(jdk);
    }
  }

  /** Decodes {@code b} as Check and Report, looks everything up; returns 1 if accepted. */
  private static int exercise(byte[] b) {
    int ok = 0;
    try {
      DecodedCheckRequest c = RequestDecoder.decodeCheck(b);
      c.attributes().toMap();
      for (String w : WORD_POOL) {
        c.attributes().get(AttributeName.of(w.isEmpty() ? "e" : w));
        c.attributes().getMapValue(AttributeName.of("request.headers"), MapKey.of(w));
      }
      c.attributes().references().encode(111);
      ok = 1;
    } catch (AttributeDecodeException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    }
    try {
      RequestDecoder.decodeReport(b).forEachRecord(bag -> bag.toMap());
    } catch (AttributeDecodeException expected) {
      assertThat(expected.getMessage()).isNotBlank();
    }
    return ok;
  }

  private static byte[] mutate(Random rnd, byte[] valid) {
    byte[] b = valid.clone();
    switch (rnd.nextInt(3)) {
      case 0 -> {
        if (b.length > 0) {
          b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
      }
      case 1 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : rnd.nextInt(b.length));
      default -> {
        for (int k = 0; k < 3 && b.length > 0; k++) {
          b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
      }
    }
    return b;
  }

  private static CheckRequest randomCheck(Random rnd) {
    return CheckRequest.newBuilder()
        .setAttributes(randomAttributes(rnd, new HashSet<>()))
        .setGlobalWordCount(rnd.nextInt(200))
        .setDeduplicationId("id" + rnd.nextInt())
        .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(rnd.nextInt(5)).build())
        .build();
  }

  /** A random message; names resolve to distinct strings so that map order cannot matter. */
  static CompressedAttributes randomAttributes(Random rnd, Set<String> used) {
    CompressedAttributes.Builder b = CompressedAttributes.newBuilder();
    int words = rnd.nextInt(6);
    for (int i = 0; i < words; i++) {
      b.addWords(WORD_POOL[rnd.nextInt(WORD_POOL.length)]);
    }
    List<String> dict = b.getWordsList();
    int entries = rnd.nextInt(12);
    for (int i = 0; i < entries; i++) {
      int name = index(rnd, dict.size());
      String resolved = resolve(name, dict);
      if (resolved != null && !used.add(resolved)) {
        continue;
      }
      switch (rnd.nextInt(8)) {
        case 0 -> b.putStrings(name, index(rnd, dict.size()));
        case 1 -> b.putInt64S(name, rnd.nextLong());
        case 2 -> b.putDoubles(name, rnd.nextDouble());
        case 3 -> b.putBools(name, rnd.nextBoolean());
        case 4 -> b.putTimestamps(name, Timestamp.newBuilder()
            .setSeconds(rnd.nextBoolean() ? rnd.nextInt() : rnd.nextLong()).setNanos(rnd.nextInt(1_000_000_000)).build());
        case 5 -> b.putDurations(name, com.google.protobuf.Duration.newBuilder()
            .setSeconds(rnd.nextInt()).setNanos(rnd.nextInt(1_000_000_000)).build());
        case 6 -> {
          byte[] v = new byte[rnd.nextInt(17)];
          rnd.nextBytes(v);
          b.putBytes(name, ByteString.copyFrom(v));
        }
        default -> {
          StringMap.Builder m = StringMap.newBuilder();
          int n = rnd.nextInt(4);
          for (int k = 0; k < n; k++) {
            m.putEntries(index(rnd, dict.size()), index(rnd, dict.size()));
          }
          b.putStringMaps(name, m.build());
        }
      }
    }
    return b.build();
  }

  /** Mostly valid indexes, sometimes one past either dictionary. */
  private static int index(Random rnd, int words) {
    int r = rnd.nextInt(20);
    if (r == 0) {
      return 167 + rnd.nextInt(1000);
    }
    if (r == 1) {
      return -(words + 1 + rnd.nextInt(5));
    }
    if (words > 0 && r < 10) {
      return -(rnd.nextInt(words) + 1);
    }
    return rnd.nextInt(167);
  }

  private static String resolve(int index, List<String> words) {
    if (index >= 0) {
      return index < 167 ? GlobalDictionary.word(index) : null;
    }
    int slot = -index - 1;
    return slot < words.size() ? words.get(slot) : null;
  }

  /** What a lenient decoder must produce, computed from protobuf-java's parse. */
  static Map<String, Object> reference(CompressedAttributes a, List<String> words) {
    Map<String, Object> out = new LinkedHashMap<>();
    a.getStringsMap().forEach((k, v) -> {
      String n = resolve(k, words);
      String s = resolve(v, words);
      if (n != null && s != null) {
        out.put(n, s);
      } else if (n != null) {
        out.remove(n); // the last occurrence of a name decides, and this one is unusable
      }
    });
    a.getInt64SMap().forEach((k, v) -> putIfNamed(out, resolve(k, words), v));
    a.getDoublesMap().forEach((k, v) -> putIfNamed(out, resolve(k, words), v));
    a.getBoolsMap().forEach((k, v) -> putIfNamed(out, resolve(k, words), v));
    a.getTimestampsMap().forEach((k, v) -> {
      if (v.getSeconds() >= -62_135_596_800L && v.getSeconds() <= 253_402_300_799L) {
        putIfNamed(out, resolve(k, words), Instant.ofEpochSecond(v.getSeconds(), v.getNanos()));
      } else if (resolve(k, words) != null) {
        out.remove(resolve(k, words));
      }
    });
    a.getDurationsMap().forEach((k, v) ->
        putIfNamed(out, resolve(k, words), Duration.ofSeconds(v.getSeconds(), v.getNanos())));
    a.getBytesMap().forEach((k, v) -> putIfNamed(out, resolve(k, words), v.toByteArray()));
    a.getStringMapsMap().forEach((k, v) -> {
      Map<String, String> m = new LinkedHashMap<>();
      boolean ok = true;
      for (Map.Entry<Integer, Integer> e : v.getEntriesMap().entrySet()) {
        String key = resolve(e.getKey(), words);
        String val = resolve(e.getValue(), words);
        ok &= key != null && val != null;
        if (ok) {
          m.put(key, val);
        }
      }
      if (ok) {
        putIfNamed(out, resolve(k, words), m);
      } else if (resolve(k, words) != null) {
        out.remove(resolve(k, words));
      }
    });
    return out;
  }

  private static void putIfNamed(Map<String, Object> out, String name, Object v) {
    if (name != null) {
      out.put(name, v);
    }
  }

  private static Map<String, Object> normalize(Map<String, Object> m) {
    Map<String, Object> n = new LinkedHashMap<>();
    m.forEach((k, v) -> n.put(k, v instanceof byte[] b ? ByteString.copyFrom(b) : v));
    return n;
  }
}
