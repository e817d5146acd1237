package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Span.Kind;
import brave.handler.MutableSpan;
import brave.propagation.TraceContext;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import zipkin2.reporter.brave.MutableSpanBytesEncoder;

/**
 * Mixer's proto3 span encoder writes exactly the bytes zipkin-reporter's Brave encoder writes for the
 * same span: the oracle Zipkin already reads.
 */
class ZipkinProto3EncoderTest {

  private static final byte[] LOCAL_IP = {10, 1, 2, 3};
  private static final String LOCAL_IP_TEXT = "10.1.2.3";

  private final ZipkinProto3Encoder encoder = new ZipkinProto3Encoder("istio-mixer", LOCAL_IP);

  /** Brave's bytes for the span, as one ListOfSpans entry (field 1, length, value). */
  private static byte[] brave(RecordedSpan r) {
    TraceContext.Builder c = TraceContext.newBuilder().traceIdHigh(r.traceIdHigh).traceId(r.traceId)
        .spanId(r.spanId).debug(r.debug);
    if (r.parentId != 0) {
      c.parentId(r.parentId);
    }
    MutableSpan s = new MutableSpan(c.build(), null);
    s.name(r.name);
    if (r.kind == RecordedSpan.SERVER) {
      s.kind(Kind.SERVER);
    }
    s.startTimestamp(r.startMicros);
    s.finishTimestamp(r.startMicros + r.durationMicros);
    if (r.serviceName == null) {
      s.localServiceName("istio-mixer");
      s.localIp(LOCAL_IP_TEXT);
    } else {
      s.localServiceName(r.serviceName);
    }
    if (r.remoteIp != null) {
      s.remoteIpAndPort(ipText(r.remoteIp), r.remotePort);
    }
    for (int i = 0; i < r.tagCount(); i++) {
      s.tag(r.tags()[2 * i], r.tags()[2 * i + 1]);
    }
    byte[] value = MutableSpanBytesEncoder.PROTO3.encode(s);
    return value;
  }

  private static String ipText(byte[] ip) {
    try {
      return InetAddress.getByAddress(ip).getHostAddress();
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private byte[] mixer(RecordedSpan span) {
    int size = encoder.sizeInMessage(span);
    byte[] out = new byte[size + 7];
    int end = encoder.write(span, out, 3);
    assertThat(end - 3).as("written = sized").isEqualTo(size);
    return Arrays.copyOfRange(out, 3, end);
  }

  @Test
  void aServerSpanWithRemotePeerTagsAndA128BitTraceIdIsBraveEncoded() {
    RecordedSpan s = RecordedSpan.finished(null, 0x5f2a1b3c12345678L, 0x463ac35c9f6413adL, 0x0020000000000001L,
        0xa2fb4a1d1a96d312L, false, RecordedSpan.SERVER, "istio.mixer.v1.Mixer/Check", null, 1_700_000_000_123_456L,
        873);
    s.remote(new byte[] {127, 0, 0, 1}, 43_512);
    s.putTag("grpc.status_code", "OK");
    assertThat(mixer(s)).isEqualTo(brave(s));
  }

  @Test
  void aHandlerSpanWithAnErrorAndADebugFlagIsBraveEncoded() {
    RecordedSpan s = RecordedSpan.finished(null, 0, 0x463ac35c9f6413adL, 0xa2fb4a1d1a96d312L, 7L, true,
        RecordedSpan.LOCAL, "quota:handler.memquota.istio-system(memquota)", null, 1_700_000_000_000_000L, 1);
    s.putTag("mixer.quota.amount", "1");
    s.putTag("mixer.status", "RESOURCE_EXHAUSTED");
    s.putTag("error", "redis: connection refused to 10.0.0.1:6379, ünïcode"); // as error(e) tags it
    assertThat(mixer(s)).isEqualTo(brave(s));
  }

  @Test
  void aReportedSpanOfAnotherServiceWithIpv6PeerIsBraveEncoded() {
    RecordedSpan s = RecordedSpan.finished(null, 0, 0x1L, 0, 0x2L, false, RecordedSpan.LOCAL, "/ratings/0",
        "ratings.default", 1_700_000_000_000_000L, 12_000);
    s.remote(new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0);
    s.putTag("http.path", "/ratings/0");
    s.putTag("http.path", "/ratings/1"); // replaces, as Brave
    assertThat(mixer(s)).isEqualTo(brave(s));
  }

  @Test
  void randomSpansAreBraveEncodedAndTheStringCacheNeverServesStaleBytes() {
    Random random = new Random(16);
    String[] names = {"a", "listentry:ratingscallers.listchecker.istio-system(listchecker)", "x".repeat(300), "é"};
    for (int n = 0; n < 2_000; n++) {
      RecordedSpan s = RecordedSpan.finished(null, random.nextBoolean() ? random.nextLong() | 1 : 0,
          random.nextLong() | 1, random.nextBoolean() ? random.nextLong() | 1 : 0, random.nextLong() | 1,
          random.nextInt(5) == 0, random.nextBoolean() ? RecordedSpan.SERVER : RecordedSpan.LOCAL,
          // New String objects with the same text, and recurring ones, both go through the cache.
          random.nextBoolean() ? names[random.nextInt(names.length)] : "span-" + random.nextInt(50),
          random.nextInt(4) == 0 ? "svc-" + random.nextInt(3) : null, Math.abs(random.nextLong() >>> 8),
          random.nextInt(1 << random.nextInt(30)) + 1);
      if (random.nextBoolean()) {
        s.remote(new byte[] {10, 0, (byte) random.nextInt(), (byte) random.nextInt()}, random.nextInt(65_536));
      }
      for (int t = random.nextInt(6); t > 0; t--) {
        s.putTag("k" + random.nextInt(4), random.nextInt(3) == 0 ? "v".repeat(random.nextInt(200)) : "OK");
      }
      assertThat(mixer(s)).as("span %d", n).isEqualTo(brave(s));
    }
  }
}
