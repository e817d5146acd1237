package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast delta path of {@link ReportBatchEncoder} (unchanged values skipped without copying)
 * writes exactly the bytes the encoder wrote before it ({@link ReportBatchEncoderBefore}), for
 * records that keep, change, add and drop attributes of every type.
 */
class ReportBatchEncoderFastPathTest {

  /** Names from the global dictionary and custom ones (message words). */
  private static final String[] NAMES = {
    "source.service", "destination.service", "request.headers", "request.path", "request.time",
    "response.duration", "response.code", "source.ip", "test.custom.bool", "test.custom.double",
    "test.custom.bytes", "test.custom.int", "response.headers", "test.custom.extra",
  };

  @Test
  void randomRecordsEncodeAsBefore() throws Exception {
    for (long seed = 0; seed < 300; seed++) {
      Random rnd = new Random(seed);
      List<Map<String, Object>> records = records(rnd, 1 + rnd.nextInt(40));
      int gwc = rnd.nextBoolean() ? GlobalDictionary.SIZE : rnd.nextInt(GlobalDictionary.SIZE);
      assertThat(encode(records, gwc, true)).as("seed %d", seed).isEqualTo(encode(records, gwc, false));
    }
  }

  /** Every batch's bytes, a new batch started whenever {@code add} refuses a record. */
  private static List<String> encode(List<Map<String, Object>> records, int gwc, boolean before) {
    List<String> batches = new ArrayList<>();
    Object batch = null;
    for (Map<String, Object> r : records) {
      if (batch == null || !add(batch, r)) {
        if (batch != null) {
          batches.add(hex(batch));
        }
        batch = before ? new ReportBatchEncoderBefore(gwc) : new ReportBatchEncoder(gwc);
        assertThat(add(batch, r)).isTrue();
      }
    }
    batches.add(hex(batch));
    return batches;
  }

  private static boolean add(Object batch, Map<String, Object> r) {
    return batch instanceof ReportBatchEncoder b ? b.add(r) : ((ReportBatchEncoderBefore) batch).add(r);
  }

  private static String hex(Object batch) {
    byte[] bytes = batch instanceof ReportBatchEncoder b ? b.build().toByteArray()
        : ((ReportBatchEncoderBefore) batch).build().toByteArray();
    StringBuilder s = new StringBuilder();
    for (byte x : bytes) {
      s.append(String.format("%02x", x));
    }
    return s.toString();
  }

  private static List<Map<String, Object>> records(Random rnd, int n) throws UnknownHostException {
    List<Map<String, Object>> out = new ArrayList<>();
    Map<String, Object> current = new LinkedHashMap<>();
    for (String name : NAMES) {
      if (rnd.nextInt(4) > 0) {
        current.put(name, value(rnd, name));
      }
    }
    for (int i = 0; i < n; i++) {
      Map<String, Object> next = rnd.nextInt(5) == 0 ? new HashMap<>() : new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : current.entrySet()) {
        int what = rnd.nextInt(12);
        Object v = e.getValue();
        if (what == 0) {
          continue; // dropped: the batch must refuse the record
        } else if (what <= 2) {
          v = value(rnd, e.getKey()); // a new value, often equal to the old
        } else if (what == 3) {
          v = copyOf(v); // equal, another object
        }
        next.put(e.getKey(), v);
      }
      if (rnd.nextInt(4) == 0) {
        String name = NAMES[rnd.nextInt(NAMES.length)];
        next.putIfAbsent(name, value(rnd, name)); // added
      }
      out.add(next);
      current = next;
    }
    return out;
  }

  private static Object copyOf(Object v) {
    if (v instanceof byte[] b) {
      return b.clone();
    }
    if (v instanceof Map<?, ?> m) {
      List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
      Collections.reverse(entries); // same content, another order
      Map<Object, Object> copy = new LinkedHashMap<>();
      entries.forEach(e -> copy.put(e.getKey(), e.getValue()));
      return copy;
    }
    if (v instanceof String s) {
      return new String(s.toCharArray());
    }
    if (v instanceof Long l) {
      if (l.intValue() == l) {
        return Integer.valueOf(l.intValue()); // an Integer encodes as the equal Long
      }
      return l;
    }
    return v;
  }

  private static Object value(Random rnd, String name) throws UnknownHostException {
    int k = rnd.nextInt(3);
    return switch (name) {
      case "source.service", "destination.service", "request.path", "test.custom.extra" ->
          k == 0 ? name + "-a" : "v" + rnd.nextInt(3);
      case "request.headers", "response.headers" -> {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = rnd.nextInt(4); i > 0; i--) {
          m.put(rnd.nextBoolean() ? ":path" : "x-h" + rnd.nextInt(3), "hv" + rnd.nextInt(2));
        }
        yield m;
      }
      case "request.time" -> Instant.ofEpochSecond(1_500_000_000L + k, k * 7);
      case "response.duration" -> Duration.ofMillis(k);
      case "response.code" -> k == 0 ? (Object) 200L : (Object) Integer.valueOf(200 + k);
      case "source.ip" -> k == 0 ? InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) k})
          : new byte[] {10, 0, 0, (byte) rnd.nextInt(2)};
      case "test.custom.bool" -> k == 0;
      case "test.custom.double" -> k * 0.5;
      case "test.custom.bytes" -> new byte[k];
      case "test.custom.int" -> rnd.nextBoolean() ? (Object) (long) k : (Object) k;
      default -> throw new IllegalArgumentException(name);
    };
  }

  @Test
  void aRefusedOrFailedRecordLeavesTheBatchAsItWas() {
    ReportBatchEncoder batch = new ReportBatchEncoder(GlobalDictionary.SIZE);
    ReportBatchEncoderBefore before = new ReportBatchEncoderBefore(GlobalDictionary.SIZE);
    Map<String, Object> first = Map.of("source.service", "a", "request.headers", Map.of("x", "1"));
    assertThat(batch.add(first)).isTrue();
    before.add(first);
    Map<String, Object> bad = new HashMap<>(first);
    bad.put("request.headers", Map.of("x", 1));
    assertThatThrownBy(() -> batch.add(bad)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("request.headers");
    assertThat(batch.add(Map.of("source.service", "b"))).isFalse();
    Map<String, Object> second = Map.of("source.service", "b", "request.headers", Map.of("x", "1"));
    assertThat(batch.add(second)).isTrue();
    before.add(second);
    assertThat(batch.build()).isEqualTo(before.build());
    assertThat(batch.size()).isEqualTo(2);
  }
}
