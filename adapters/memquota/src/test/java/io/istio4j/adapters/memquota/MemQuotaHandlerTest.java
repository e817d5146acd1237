package io.istio4j.adapters.memquota;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.memquota.config.Params;
import io.istio4j.template.quota.QuotaInstance;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;

class MemQuotaHandlerTest {

  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    final AtomicLong nanos = new AtomicLong(1_700_000_000_000_000_000L);

    @Override
    public Instant instant() {
      long n = nanos.get();
      return Instant.ofEpochSecond(n / 1_000_000_000L, n % 1_000_000_000L);
    }

    void advance(Duration d) {
      nanos.addAndGet(d.toNanos());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  private final ManualClock clock = new ManualClock();
  private static final String RC = "requestcount.quota.istio-system";
  private int ids;

  private static Params params(long max, Duration window, Params.Override... overrides) {
    return MemQuotaAdapter.DEFAULTS.toBuilder()
        .addQuotas(Params.Quota.newBuilder().setName(RC).setMaxAmount(max)
            .setValidDuration(Durations.fromNanos(window.toNanos())).addAllOverrides(List.of(overrides)))
        .build();
  }

  private static QuotaInstance instance(Map<String, Object> dims) {
    return new QuotaInstance(RC, dims);
  }

  private long allocate(MemQuotaHandler h, Map<String, Object> dims, long amount, boolean bestEffort) {
    return h.handleQuota(instance(dims), new QuotaArgs("id-" + (++ids), amount, bestEffort)).amount();
  }

  @Test
  void aRollingWindowGrantsUpToTheLimitAndForgetsAfterTheWindow() {
    MemQuotaHandler h = new MemQuotaHandler(params(3, Duration.ofSeconds(1)), clock);
    Map<String, Object> d = Map.of("source", "reviews");
    assertThat(allocate(h, d, 2, false)).isEqualTo(2);
    clock.advance(Duration.ofMillis(500));
    assertThat(allocate(h, d, 2, false)).as("all or nothing").isZero();
    assertThat(allocate(h, d, 2, true)).as("best effort takes the rest").isEqualTo(1);
    clock.advance(Duration.ofMillis(550)); // the first grant left the window, the best-effort one did not
    assertThat(allocate(h, d, 3, true)).isEqualTo(2);
    clock.advance(Duration.ofSeconds(2));
    assertThat(allocate(h, d, 3, false)).isEqualTo(3);
    assertThat(h.handleQuota(instance(d), new QuotaArgs("x", 1, true)).validDuration()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void cellsAreKeptPerDimensionValues() {
    MemQuotaHandler h = new MemQuotaHandler(params(1, Duration.ofSeconds(1)), clock);
    assertThat(allocate(h, Map.of("source", "a"), 1, false)).isEqualTo(1);
    assertThat(allocate(h, Map.of("source", "b"), 1, false)).isEqualTo(1);
    assertThat(allocate(h, Map.of("source", "a"), 1, false)).isZero();
  }

  @Test
  void aPlainCounterHoldsUntilReleased() {
    MemQuotaHandler h = new MemQuotaHandler(params(5, Duration.ZERO), clock);
    Map<String, Object> d = Map.of();
    assertThat(allocate(h, d, 4, false)).isEqualTo(4);
    clock.advance(Duration.ofHours(1));
    assertThat(allocate(h, d, 2, false)).isZero();
    assertThat(allocate(h, d, -3, false)).as("a negative amount frees").isZero();
    assertThat(allocate(h, d, 4, false)).isEqualTo(4);
    assertThat(h.handleQuota(instance(d), new QuotaArgs("y", 1, false)).validDuration()).isZero();
  }

  @Test
  void theFirstMatchingOverrideWins() {
    Params.Override ratingsFromReviews = Params.Override.newBuilder()
        .putDimensions("destination", "ratings").putDimensions("source", "reviews").setMaxAmount(1).build();
    Params.Override ratings = Params.Override.newBuilder()
        .putDimensions("destination", "ratings").setMaxAmount(2).build();
    MemQuotaHandler h = new MemQuotaHandler(params(100, Duration.ofSeconds(1), ratingsFromReviews, ratings), clock);
    assertThat(allocate(h, Map.of("destination", "ratings", "source", "reviews"), 5, true)).isEqualTo(1);
    assertThat(allocate(h, Map.of("destination", "ratings", "source", "productpage"), 5, true)).isEqualTo(2);
    assertThat(allocate(h, Map.of("destination", "details", "source", "reviews"), 5, true)).isEqualTo(5);
  }

  @Test
  void aRetriedRequestIsGrantedOnceWithinTheDeduplicationWindow() {
    MemQuotaHandler h = new MemQuotaHandler(params(2, Duration.ofSeconds(10)), clock);
    QuotaInstance i = instance(Map.of());
    assertThat(h.handleQuota(i, new QuotaArgs("req-1", 2, false)).amount()).isEqualTo(2);
    assertThat(h.handleQuota(i, new QuotaArgs("req-1", 2, false)).amount()).as("same answer, nothing charged").isEqualTo(2);
    assertThat(h.handleQuota(i, new QuotaArgs("req-2", 1, false)).amount()).as("the limit is spent once").isZero();
    clock.advance(Duration.ofMillis(2100)); // two rotations of the 1 s dedup maps: req-1 forgotten
    assertThat(h.handleQuota(i, new QuotaArgs("req-1", 2, false)).amount()).isZero();
  }

  @Test
  void manyThreadsNeverGetMoreThanTheLimitInAWindow() throws Exception {
    MemQuotaHandler h = new MemQuotaHandler(params(1000, Duration.ofSeconds(1)), clock);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Long>> results = new ArrayList<>();
    AtomicLong seq = new AtomicLong();
    for (int t = 0; t < threads; t++) {
      results.add(pool.submit(() -> {
        start.await();
        long granted = 0;
        for (int n = 0; n < 2000; n++) {
          granted += h.handleQuota(instance(Map.of("source", "reviews")),
              new QuotaArgs("c-" + seq.incrementAndGet(), 1 + n % 3, n % 2 == 0)).amount();
        }
        return granted;
      }));
    }
    start.countDown();
    long total = 0;
    for (Future<Long> f : results) {
      total += f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(total).as("demand far exceeds the limit; the clock never moved").isEqualTo(1000);
  }

  @Test
  void manyThreadsRespectTheLimitInEveryWindowWhileTimeMoves() throws Exception {
    MemQuotaHandler h = new MemQuotaHandler(params(50, Duration.ofSeconds(1)), clock);
    int threads = 6;
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    AtomicLong seq = new AtomicLong();
    long[] grantedAtTick = new long[400];
    CountDownLatch done = new CountDownLatch(threads);
    long base = clock.nanos.get() / 1_000_000L / 100L;
    for (int t = 0; t < threads; t++) {
      pool.submit(() -> {
        try {
          while (true) {
            long tickBefore = clock.nanos.get() / 1_000_000L / 100L - base;
            if (tickBefore >= grantedAtTick.length - 1) {
              return;
            }
            long g = h.handleQuota(instance(Map.of()), new QuotaArgs("w-" + seq.incrementAndGet(), 1, false)).amount();
            long tickAfter = clock.nanos.get() / 1_000_000L / 100L - base;
            if (g > 0 && tickBefore == tickAfter) { // attribute the grant only when its tick is certain
              synchronized (grantedAtTick) {
                grantedAtTick[(int) tickBefore] += g;
              }
            }
          }
        } finally {
          done.countDown();
        }
      });
    }
    for (int tick = 0; tick < grantedAtTick.length; tick++) {
      Thread.sleep(0, 200_000);
      clock.advance(Duration.ofMillis(100));
    }
    assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    pool.shutdown();
    for (int start = 0; start + 10 <= grantedAtTick.length; start++) {
      long inWindow = 0;
      for (int t = start; t < start + 10; t++) {
        inWindow += grantedAtTick[t];
      }
      assertThat(inWindow).as("grants in ticks %d-%d", start, start + 9).isLessThanOrEqualTo(50);
    }
  }

  @Test
  void sweepingDropsCellsThatHoldNothing() {
    MemQuotaHandler h = new MemQuotaHandler(params(5, Duration.ofSeconds(1)), clock);
    allocate(h, Map.of("source", "a"), 1, false);
    allocate(h, Map.of("source", "b"), 1, false);
    h.sweep();
    assertThat(h.cellCount()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(2));
    h.sweep();
    assertThat(h.cellCount()).isZero();
    assertThat(allocate(h, Map.of("source", "a"), 5, false)).isEqualTo(5);
  }

  @Test
  void aCheckWithoutADeduplicationIdIsNeverAReplay() {
    MemQuotaHandler h = new MemQuotaHandler(params(3, Duration.ofSeconds(10)), clock);
    QuotaInstance i = instance(Map.of());
    for (int n = 0; n < 3; n++) {
      assertThat(h.handleQuota(i, new QuotaArgs("", 1, false)).amount()).isEqualTo(1);
    }
    assertThat(h.handleQuota(i, new QuotaArgs("", 1, false)).amount()).as("the limit, not a replay").isZero();
  }

  @Test
  void concurrentCallsWithOneDeduplicationIdAreChargedOnce() throws Exception {
    // A retry storm: every thread sends the same ids in the same order, so calls with one id meet.
    int threads = 8;
    int ids = 20_000;
    long max = 1_000_000_000L;
    MemQuotaHandler h = new MemQuotaHandler(params(max, Duration.ofSeconds(10)), clock);
    QuotaInstance i = instance(Map.of("source", "reviews"));
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Future<Long>> answers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      answers.add(pool.submit(() -> {
        start.await();
        long granted = 0;
        for (int n = 0; n < ids; n++) {
          granted += h.handleQuota(i, new QuotaArgs("retried-" + n, 3, false)).amount();
        }
        return granted;
      }));
    }
    for (Future<Long> a : answers) {
      assertThat(a.get(60, TimeUnit.SECONDS)).as("every call with an id gets its first answer").isEqualTo(3L * ids);
    }
    pool.shutdown();
    long rest = h.handleQuota(i, new QuotaArgs("other", max, true)).amount();
    assertThat(max - rest).as("charged once per id").isEqualTo(3L * ids);
  }

  @Test
  void allocationsRacingTheSweepNeverExceedTheLimitInAWindow() throws Exception {
    // Each round starts with every cell idle (the clock moved past its window), so the sweep drops
    // cells while allocations look them up; the clock stands still within a round (one window).
    int cells = 64;
    int allocators = 4;
    long max = 2;
    MemQuotaHandler h = new MemQuotaHandler(params(max, Duration.ofSeconds(1)), clock);
    ExecutorService pool = Executors.newFixedThreadPool(allocators + 1);
    AtomicLong ids = new AtomicLong();
    try {
      for (int round = 0; round < 500; round++) {
        clock.advance(Duration.ofSeconds(2));
        AtomicLongArray granted = new AtomicLongArray(cells);
        CyclicBarrier start = new CyclicBarrier(allocators + 1);
        CountDownLatch allocated = new CountDownLatch(allocators);
        List<Future<?>> work = new ArrayList<>();
        for (int t = 0; t < allocators; t++) {
          int first = t * cells / allocators;
          work.add(pool.submit(() -> {
            try {
              start.await();
              for (int n = 0; n < 2 * cells; n++) {
                int cell = (first + n) % cells;
                granted.addAndGet(cell, h.handleQuota(instance(Map.of("source", "s" + cell)),
                    new QuotaArgs("s-" + ids.incrementAndGet(), 1, false)).amount());
              }
            } finally {
              allocated.countDown();
            }
            return null;
          }));
        }
        work.add(pool.submit(() -> {
          start.await();
          while (allocated.getCount() > 0) {
            h.sweep();
          }
          return null;
        }));
        for (Future<?> f : work) {
          f.get(30, TimeUnit.SECONDS);
        }
        for (int cell = 0; cell < cells; cell++) {
          assertThat(granted.get(cell)).as("cell %d in round %d", cell, round).isLessThanOrEqualTo(max);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void ipAddressAndDurationDimensionsAreKeyedAndOverriddenByTheirGoText() {
    Params.Override local = Params.Override.newBuilder()
        .putDimensions("source", "::ffff:10.0.0.1").setMaxAmount(1).setValidDuration(Durations.fromSeconds(1)).build();
    Params.Override slow = Params.Override.newBuilder()
        .putDimensions("latency", "1000ms").setMaxAmount(2).setValidDuration(Durations.fromSeconds(1)).build();
    MemQuotaHandler h = new MemQuotaHandler(params(100, Duration.ofSeconds(1), local, slow), clock,
        Map.of(RC, Map.of("source", ValueType.IP_ADDRESS, "latency", ValueType.DURATION)));
    byte[] four = {10, 0, 0, 1};
    byte[] sixteen = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1};
    assertThat(allocate(h, Map.of("source", four), 5, true)).as("the override for 10.0.0.1").isEqualTo(1);
    assertThat(allocate(h, Map.of("source", sixteen), 5, true)).as("the same address, the same cell").isZero();
    assertThat(allocate(h, Map.of("source", new byte[] {10, 0, 0, 2}), 5, true)).isEqualTo(5);
    assertThat(allocate(h, Map.of("latency", Duration.ofSeconds(1)), 5, true)).as("1000ms is 1s").isEqualTo(2);
  }
}
