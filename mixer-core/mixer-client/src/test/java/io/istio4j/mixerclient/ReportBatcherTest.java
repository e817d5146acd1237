package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.v1.ReportRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class ReportBatcherTest {

  final FakeTransport mixer = new FakeTransport();

  static void await(BooleanSupplier condition) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("condition not met within 20 s");
      }
      Thread.sleep(5);
    }
  }

  static int records(List<ReportRequest> requests) {
    return requests.stream().mapToInt(ReportRequest::getAttributesCount).sum();
  }

  static Attributes record(int i) {
    return Attributes.builder()
        .put("destination.service", "ratings.default.svc.cluster.local")
        .put("source.service", "reviews.default.svc.cluster.local")
        .put("request.id", "id-" + i)
        .put("request.time", Instant.ofEpochSecond(1_500_000_000L, i * 1000L))
        .put("response.code", i % 10 == 0 ? 500L : 200L)
        .put("response.duration", Duration.ofMillis(i % 50))
        .put("request.headers", Map.of("x-user", "u" + (i % 3), "user-agent", "curl"))
        .put("source.ip", new byte[] {10, 0, 0, (byte) i})
        .build();
  }

  @Test
  void flushesWhenTheBatchIsFull() throws Exception {
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(10, Duration.ofHours(1)).build();
    for (int i = 0; i < 25; i++) {
      assertThat(client.report(record(i))).isTrue();
    }
    await(() -> mixer.reports.size() == 2);
    assertThat(mixer.reports).allSatisfy(r -> assertThat(r.getAttributesCount()).isEqualTo(10));
    client.close();
    // The remaining 5 go on close.
    assertThat(mixer.reports).hasSize(3);
    assertThat(mixer.reports.get(2).getAttributesCount()).isEqualTo(5);
    assertThat(client.stats().reportsSent()).isEqualTo(25);
  }

  @Test
  void flushesAfterTheDelayFromTheFirstRecord() throws Exception {
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(1000, Duration.ofMillis(20)).build();
    client.report(record(1));
    client.report(record(2));
    client.report(record(3));
    // Not closed: only the delay can have sent them.
    await(() -> records(mixer.reports) == 3);
    client.close();
  }

  @Test
  void flushesOnClose() {
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(1000, Duration.ofHours(1)).build();
    for (int i = 0; i < 7; i++) {
      client.report(record(i));
    }
    client.close();
    assertThat(records(mixer.reports)).isEqualTo(7);
    assertThat(client.report(record(8))).isFalse();
  }

  @Test
  void deltaEncodedBatchesRoundTripThroughTheServerDecoder() {
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(1000, Duration.ofHours(1)).build();
    List<Attributes> sent = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Attributes r = record(i);
      if (i == 40) {
        // Drops response.code: not expressible as a delta, so a new request starts here; and record 41
        // drops source.user again, so another one starts there.
        r = r.toBuilder().remove("response.code").put("source.user", "x").build();
      }
      sent.add(r);
      client.report(r);
    }
    client.close();
    assertThat(mixer.reports).extracting(ReportRequest::getAttributesCount).containsExactly(40, 1, 59);
    ReportRequest first = mixer.reports.get(0);
    // Records share the request's dictionary and only carry what changed.
    assertThat(first.getDefaultWordsList()).isNotEmpty();
    assertThat(first.getAttributes(1).getWordsCount()).isZero();
    assertThat(first.getAttributes(1).getStringsMap()).doesNotContainKey(152); // destination.service unchanged

    List<Map<String, Object>> decoded = new ArrayList<>();
    for (ReportRequest r : mixer.reports) {
      RequestDecoder.decodeReport(r.toByteArray()).forEachRecord(bag -> decoded.add(bag.toMap()));
    }
    assertThat(decoded).hasSize(100);
    for (int i = 0; i < 100; i++) {
      Map<String, Object> want = sent.get(i).asMap();
      Map<String, Object> got = decoded.get(i);
      assertThat(got.keySet()).as("record %d", i).containsAll(want.keySet());
      for (Map.Entry<String, Object> e : want.entrySet()) {
        assertThat(got.get(e.getKey())).as("record %d %s", i, e.getKey()).isEqualTo(e.getValue());
      }
    }
  }

  @Test
  void aFullQueueDropsRecordsWithoutBlockingTheCaller() throws Exception {
    CompletableFuture<Void> stalled = new CompletableFuture<>();
    mixer.onReport = r -> stalled;
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(5, Duration.ZERO)
        .reportQueueCapacity(10).reportTimeout(Duration.ofSeconds(30)).closeTimeout(Duration.ofMillis(100)).build();
    int accepted = 0;
    for (int i = 0; i < 10_000; i++) {
      if (client.report(record(i))) {
        accepted++;
      }
    }
    // One batch in flight (5) and a full queue (10) at most, the rest dropped.
    assertThat(accepted).isLessThanOrEqualTo(15);
    assertThat(client.stats().reportsDropped()).isGreaterThanOrEqualTo(10_000 - 15);
    stalled.complete(null);
    client.close();
    ClientStats s = client.stats();
    assertThat(s.reportsSent() + s.reportsDropped()).isEqualTo(10_000);
  }

  @Test
  void aBatchThatFailsEveryRetryIsDroppedAndCounted() {
    mixer.onReport = r -> CompletableFuture.failedFuture(Status.UNAVAILABLE.asRuntimeException());
    MixerClient client = MixerClient.builder().transport(mixer).reportBatch(1000, Duration.ofHours(1))
        .retries(3, Duration.ofMillis(1), Duration.ofMillis(2)).build();
    client.report(record(1));
    client.report(record(2));
    client.close();
    assertThat(mixer.reports).hasSize(3);
    assertThat(client.stats().reportsDropped()).isEqualTo(2);
    assertThat(client.stats().reportsSent()).isZero();
  }
}
