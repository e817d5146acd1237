package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class QuotaPrefetchTest {

  static final long WINDOW = 1_000_000_000L;

  /**
   * A rate-limiting Mixer: {@code limit} units per fixed one-second window, granted best effort, each
   * grant valid until its window ends (as memquota's rolling window would hand them out).
   */
  static final class RateLimitedMixer {
    final FakeTicker clock;
    final long limit;
    final Map<Long, Long> grantedPerWindow = new HashMap<>();

    RateLimitedMixer(FakeTicker clock, long limit) {
      this.clock = clock;
      this.limit = limit;
    }

    CompletableFuture<CheckResponse> answer(CheckRequest r) {
      CheckResponse.Builder b = FakeTransport.ok(100, -1, FakeTransport.refs("destination.service EXACT")).toBuilder();
      r.getQuotasMap().forEach((name, params) -> {
        long window = clock.nanos() / WINDOW;
        long used = grantedPerWindow.getOrDefault(window, 0L);
        long grant = Math.min(params.getAmount(), limit - used);
        if (!params.getBestEffort() && grant < params.getAmount()) {
          grant = 0;
        }
        grantedPerWindow.merge(window, grant, Long::sum);
        long left = (window + 1) * WINDOW - clock.nanos();
        b.putQuotas(name, QuotaResult.newBuilder().setGrantedAmount(grant)
            .setValidDuration(Duration.newBuilder().setSeconds(left / 1_000_000_000L).setNanos((int) (left % 1_000_000_000L)))
            .setReferencedAttributes(FakeTransport.refs("destination.service EXACT", "source.service EXACT"))
            .build());
      });
      return CompletableFuture.completedFuture(b.build());
    }
  }

  final FakeTicker clock = new FakeTicker();
  final FakeTransport mixer = new FakeTransport();
  // Refills run inline, so the fake clock alone decides what the pool holds.
  final MixerClient client = MixerClient.builder().transport(mixer).ticker(clock).refillExecutor(Runnable::run)
      .build();

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void neverGrantsMoreThanMixerGrantedInAnyWindow() {
    RateLimitedMixer limiter = new RateLimitedMixer(clock, 50);
    mixer.onCheck = limiter::answer;
    Attributes attrs = Attributes.builder().put("destination.service", "ratings").put("source.service", "reviews")
        .build();

    Map<Long, Long> allowedPerWindow = new HashMap<>();
    int requests = 0;
    // 200 requests a second for 10 s against a limit of 50 a second, in bursts and pauses.
    for (int i = 0; i < 2000; i++) {
      clock.advance(java.time.Duration.ofMillis(i % 100 < 50 ? 1 : 9));
      requests++;
      if (client.check(attrs, "RequestCount", 1).allowed()) {
        allowedPerWindow.merge(clock.nanos() / WINDOW, 1L, Long::sum);
      }
    }
    long allowed = allowedPerWindow.values().stream().mapToLong(Long::longValue).sum();
    long granted = limiter.grantedPerWindow.values().stream().mapToLong(Long::longValue).sum();
    assertThat(allowedPerWindow.values()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(50));
    allowedPerWindow.forEach((w, n) -> assertThat(n).isLessThanOrEqualTo(limiter.grantedPerWindow.get(w)));
    assertThat(allowed).isLessThanOrEqualTo(granted).isGreaterThan(0);
    // The pool serves most requests: far fewer calls than requests.
    ClientStats s = client.stats();
    assertThat(s.quotaPoolGrants()).isGreaterThan(0);
    assertThat(s.remoteChecks()).isLessThan(requests / 4);
  }

  @Test
  void prefetchAsksForTheRecentRateAndRefillsBeforeThePoolRunsDry() {
    RateLimitedMixer limiter = new RateLimitedMixer(clock, 1_000_000);
    mixer.onCheck = limiter::answer;
    Attributes attrs = Attributes.builder().put("destination.service", "ratings").put("source.service", "reviews")
        .build();
    for (int i = 0; i < 5000; i++) {
      clock.advance(java.time.Duration.ofMillis(1));
      assertThat(client.check(attrs, "RequestCount", 1).allowed()).isTrue();
    }
    // 1000 a second: asks grow to about one window's demand, so a few calls a second, not one per request.
    long asked = mixer.checks.stream().filter(r -> r.getQuotasCount() > 0)
        .mapToLong(r -> r.getQuotasOrThrow("RequestCount").getAmount()).max().orElse(0);
    assertThat(asked).isGreaterThanOrEqualTo(500);
    assertThat(mixer.checks.size()).isLessThan(100);
    // The first request missed the Check cache and asked for exactly its amount; prefetches are best effort.
    assertThat(mixer.checks.get(0).getQuotasOrThrow("RequestCount").getBestEffort()).isFalse();
    assertThat(mixer.checks.stream().skip(1).filter(r -> r.getQuotasCount() > 0))
        .allSatisfy(r -> assertThat(r.getQuotasOrThrow("RequestCount").getBestEffort()).isTrue());
  }

  @Test
  void exhaustedQuotaIsDeniedLocallyDuringTheCloseWait() {
    RateLimitedMixer limiter = new RateLimitedMixer(clock, 3);
    mixer.onCheck = limiter::answer;
    Attributes attrs = Attributes.builder().put("destination.service", "ratings").put("source.service", "x")
        .build();
    int allowed = 0;
    for (int i = 0; i < 20; i++) {
      CheckResult r = client.check(attrs, "RequestCount", 1);
      if (r.allowed()) {
        allowed++;
      } else {
        assertThat(r.code()).isEqualTo(8);
        assertThat(r.message()).isEqualTo("Quota is exhausted for: RequestCount");
        assertThat(r.httpStatus()).isEqualTo(429);
      }
    }
    assertThat(allowed).isEqualTo(3);
    assertThat(client.stats().quotaPoolDenials()).isGreaterThan(0);
  }
}
