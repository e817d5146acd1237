package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a real Mixer (in-process) with the quickstart policy, and against a broken one. */
class MixerClientIT {

  static final String RATINGS = "ratings.default.svc.cluster.local";
  static final String REVIEWS = "reviews.default.svc.cluster.local";

  @TempDir
  static Path dir;

  static TestMixer mixer;

  @BeforeAll
  static void start() throws IOException {
    mixer = TestMixer.start(dir);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    mixer.close();
  }

  static Attributes call(String source, String destination, Map<String, String> headers) {
    return Attributes.builder()
        .put("source.service", source)
        .put("destination.service", destination)
        .put("request.headers", headers)
        .put("request.path", "/ratings/0")
        .put("request.time", Instant.now())
        .put("source.ip", new byte[] {10, 0, 0, 7})
        .build();
  }

  @Test
  void answersLikeMixerAndCachesOnReferencedAttributes() {
    try (MixerClient client = MixerClient.builder().target(mixer.target()).build()) {
      CheckResult first = client.check(call(REVIEWS, RATINGS, Map.of("x-user", "jason")));
      assertThat(first).isEqualTo(new CheckResult(0, "", CheckResult.Source.MIXER));
      // Other headers, path and time differ: Mixer referenced only x-user, the two services and
      // absent attributes, so this is a hit.
      CheckResult second = client.check(Attributes.builder().putAll(call(REVIEWS, RATINGS,
          Map.of("x-user", "jason", "cookie", "abc"))).put("request.path", "/ratings/1").build());
      assertThat(second.source()).isEqualTo(CheckResult.Source.CACHE);

      CheckResult mallory = client.check(call(REVIEWS, RATINGS, Map.of("x-user", "mallory")));
      assertThat(mallory.code()).isEqualTo(7);
      assertThat(mallory.message()).contains("Not allowed");
      assertThat(mallory.httpStatus()).isEqualTo(403);
      assertThat(client.check(call(REVIEWS, RATINGS, Map.of("x-user", "mallory"))).source())
          .isEqualTo(CheckResult.Source.CACHE);

      CheckResult details = client.check(call("details.default.svc.cluster.local", RATINGS, Map.of()));
      assertThat(details.code()).isEqualTo(5); // NOT_FOUND: not whitelisted
      assertThat(details.httpStatus()).isEqualTo(404);
      assertThat(client.stats().uncacheableChecks()).isZero();
    }
  }

  @Test
  void quotaIsPrefetchedAndNeverOverGranted() {
    // memquota: 5 a second from reviews to ratings. However fast the client asks, Mixer's grants
    // bound what it allows.
    try (MixerClient client = MixerClient.builder().target(mixer.target()).build()) {
      Attributes attrs = call(REVIEWS, RATINGS, Map.of());
      long start = System.nanoTime();
      int allowed = 0;
      for (int i = 0; i < 200; i++) {
        if (client.check(attrs, "requestcount", 1).allowed()) {
          allowed++;
        }
      }
      long seconds = Math.max(1, (System.nanoTime() - start + 999_999_999L) / 1_000_000_000L);
      // A rolling 1 s window of 5 can grant at most 5 per started second, plus one window's worth.
      assertThat(allowed).isGreaterThan(0).isLessThanOrEqualTo((int) (5 * (seconds + 1)));
      assertThat(client.stats().checkCacheHits()).isGreaterThan(0);
    }
  }

  @Test
  void reportsReachMixer() {
    MixerClient client = MixerClient.builder().target(mixer.target()).reportBatch(100, Duration.ofMillis(10)).build();
    for (int i = 0; i < 1000; i++) {
      assertThat(client.report(call(REVIEWS, RATINGS, Map.of("x-user", "u" + (i % 7))).toBuilder()
          .put("response.code", 200L).put("response.duration", Duration.ofMillis(i % 13)).build())).isTrue();
    }
    client.close();
    assertThat(client.stats().reportsSent()).isEqualTo(1000);
    assertThat(client.stats().reportsDropped()).isZero();
  }

  @Test
  void mixerDownFailsOpenOrClosedAsConfigured() throws IOException {
    String closed = "127.0.0.1:" + TestMixer.freePort();
    try (MixerClient open = MixerClient.builder().target(closed).checkTimeout(Duration.ofSeconds(2)).build();
        MixerClient shut = MixerClient.builder().target(closed).failPolicy(FailPolicy.CLOSE)
            .checkTimeout(Duration.ofSeconds(2)).build()) {
      assertThat(open.check(call(REVIEWS, RATINGS, Map.of())).source()).isEqualTo(CheckResult.Source.FAIL_OPEN);
      CheckResult r = shut.check(call(REVIEWS, RATINGS, Map.of()));
      assertThat(r.httpStatus()).isEqualTo(503);
      assertThat(r.message()).contains("UNAVAILABLE");
      // Reports to a dead Mixer are dropped and counted, never thrown at the caller.
      open.report(call(REVIEWS, RATINGS, Map.of()));
    }
  }

  @Test
  void stalledMixerHitsTheDeadline() throws Exception {
    // Accepts TCP connections and never speaks HTTP/2: the call can only end by its deadline.
    try (ServerSocket stalled = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(stalled.accept());
          }
        } catch (IOException e) {
          // closed
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      try (MixerClient client = MixerClient.builder().target("127.0.0.1:" + stalled.getLocalPort())
          .failPolicy(FailPolicy.CLOSE).checkTimeout(Duration.ofMillis(300)).build()) {
        CheckResult r = client.check(call(REVIEWS, RATINGS, Map.of()));
        assertThat(r.source()).isEqualTo(CheckResult.Source.FAIL_CLOSE);
        assertThat(r.message()).contains("DEADLINE_EXCEEDED");
      }
    }
  }

  @Test
  void mixerRestartingMidLoadIsServedByCacheThenByTheNewMixer() throws Exception {
    try (MixerClient client = MixerClient.builder().target(mixer.target()).checkTimeout(Duration.ofSeconds(2)).build()) {
      Attributes cached = call(REVIEWS, RATINGS, Map.of("x-user", "a"));
      assertThat(client.check(cached).source()).isEqualTo(CheckResult.Source.MIXER);
      mixer.stop();
      try {
        // Cached answers keep coming; new ones fail open.
        assertThat(client.check(cached).source()).isEqualTo(CheckResult.Source.CACHE);
        assertThat(client.check(call(REVIEWS, RATINGS, Map.of("x-user", "b"))).source())
            .isEqualTo(CheckResult.Source.FAIL_OPEN);
      } finally {
        mixer.restart();
      }
      CheckResult after = null;
      for (int i = 0; i < 100; i++) {
        after = client.check(call(REVIEWS, RATINGS, Map.of("x-user", "c" + i)));
        if (after.source() == CheckResult.Source.MIXER) {
          break;
        }
        Thread.sleep(50);
      }
      assertThat(after.source()).isEqualTo(CheckResult.Source.MIXER);
    }
  }

  @Test
  void hugeAttributeMapsGetAnAnswerNotAHang() {
    Map<String, String> headers = new HashMap<>();
    for (int i = 0; i < 50_000; i++) {
      headers.put("x-h-" + i, "v" + i);
    }
    try (MixerClient client = MixerClient.builder().target(mixer.target()).failPolicy(FailPolicy.CLOSE).build()) {
      CheckResult r = client.check(call(REVIEWS, RATINGS, headers));
      // Over Mixer's 1 MiB message limit: Mixer refuses the call, the policy decides.
      assertThat(r.source()).isEqualTo(CheckResult.Source.FAIL_CLOSE);
      assertThat(r.message()).contains("RESOURCE_EXHAUSTED");
      Map<String, String> big = new HashMap<>();
      for (int i = 0; i < 2_000; i++) {
        big.put("x-h-" + i, "v" + i);
      }
      assertThat(client.check(call(REVIEWS, RATINGS, big)).source()).isEqualTo(CheckResult.Source.MIXER);
    }
  }
}
