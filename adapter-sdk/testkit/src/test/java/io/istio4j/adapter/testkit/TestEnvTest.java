package io.istio4j.adapter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.testkit.TestEnv.ScheduledTask;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.event.Level;

class TestEnvTest {

  private final TestEnv env = TestEnv.create();
  private final List<String> ran = new CopyOnWriteArrayList<>();

  private Runnable record(String name) {
    return () -> ran.add(name);
  }

  @Test
  void theClockStandsStillUntilTheTestAdvancesIt() {
    Clock clock = env.clock();
    assertThat(clock.instant()).isEqualTo(TestEnv.DEFAULT_START);
    assertThat(clock.instant()).isEqualTo(TestEnv.DEFAULT_START);

    env.advance(Duration.ofSeconds(90));
    assertThat(clock.instant()).isEqualTo(TestEnv.DEFAULT_START.plusSeconds(90));
    assertThat(clock.withZone(ZoneId.of("Europe/Berlin")).instant()).isEqualTo(TestEnv.DEFAULT_START.plusSeconds(90));
    assertThatThrownBy(() -> env.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("d: PT-1S (expected: >= 0; the clock never goes back)");
  }

  @Test
  void theClockStartsWhereTheBuilderSays() {
    Instant start = Instant.parse("2017-09-01T12:00:00.5Z");
    assertThat(TestEnv.builder().startingAt(start).build().clock().instant()).isEqualTo(start);
  }

  @Test
  void scheduledWorkRunsOnlyWhenTheTestRunsIt() {
    Future<?> work = env.scheduleWork(record("work"));
    assertThat(ran).isEmpty();
    assertThat(work.isDone()).isFalse();
    assertThat(env.scheduled()).singleElement().satisfies(t -> {
      assertThat((Object) t).isSameAs(work);
      assertThat(t.kind()).isEqualTo(ScheduledTask.Kind.WORK);
    });

    assertThat(env.runDue()).isEqualTo(1);
    assertThat(ran).containsExactly("work");
    assertThat(work.isDone()).isTrue();
    assertThat(env.runDue()).isZero();
    assertThat(ran).containsExactly("work");
  }

  @Test
  void periodicWorkRunsOnceForEachPeriodThatHasPassedAndKeepsItsSchedule() {
    ScheduledFuture<?> periodic = env.scheduleAtFixedRate(record("tick"), Duration.ofSeconds(10), Duration.ofSeconds(10));
    assertThat(env.scheduled()).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(ScheduledTask.Kind.PERIODIC);
      assertThat(t.delay()).isEqualTo(Duration.ofSeconds(10));
      assertThat(t.period()).isEqualTo(Duration.ofSeconds(10));
    });
    assertThat(env.runDue()).isZero();

    env.advance(Duration.ofSeconds(10));
    assertThat(env.runDue()).isEqualTo(1);
    env.advance(Duration.ofSeconds(25)); // 35s: due at 20s and 30s
    assertThat(env.runDue()).isEqualTo(2);
    assertThat(ran).containsExactly("tick", "tick", "tick");
    assertThat(periodic.getDelay(TimeUnit.SECONDS)).isEqualTo(5);

    env.scheduled().get(0).run(); // an extra run, as a test may do, does not move the schedule
    assertThat(ran).hasSize(4);
    assertThat(periodic.getDelay(TimeUnit.SECONDS)).isEqualTo(5);
    assertThat(periodic.isDone()).isFalse();

    periodic.cancel(false);
    env.advance(Duration.ofSeconds(60));
    assertThat(env.runDue()).isZero();
    assertThat(env.scheduled()).singleElement().satisfies(t -> assertThat(t.isCancelled()).isTrue());
  }

  @Test
  void dueWorkRunsInTheOrderItFallsDueAndWorkItSchedulesRunsToo() {
    env.schedule(record("at 30s"), Duration.ofSeconds(30));
    env.schedule(() -> {
      ran.add("at 10s");
      env.scheduleWork(record("scheduled by the 10s work"));
    }, Duration.ofSeconds(10));
    env.schedule(record("at 60s"), Duration.ofSeconds(60));

    env.advance(Duration.ofSeconds(45));
    assertThat(env.runDue()).isEqualTo(3);
    // the new work is due at 45s, when it was scheduled: after the work due at 30s
    assertThat(ran).containsExactly("at 10s", "at 30s", "scheduled by the 10s work");
    assertThat(env.scheduled()).extracting(ScheduledTask::kind).containsExactly(
        ScheduledTask.Kind.DELAYED, ScheduledTask.Kind.DELAYED, ScheduledTask.Kind.DELAYED, ScheduledTask.Kind.WORK);
  }

  @Test
  void daemonsNeverRunWithoutBackgroundThreads() throws Exception {
    Future<?> daemon = env.scheduleDaemon(record("daemon"));
    env.advance(Duration.ofHours(1));
    assertThat(env.runDue()).isZero();
    assertThat(ran).isEmpty();
    assertThatThrownBy(() -> daemon.get(10, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);

    daemon.cancel(true);
    assertThat(env.scheduled()).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(ScheduledTask.Kind.DAEMON);
      assertThat(t.isCancelled()).isTrue();
    });
  }

  @Test
  void failingWorkIsLoggedAndPeriodicWorkKeepsItsSchedule() {
    env.scheduleAtFixedRate(() -> {
      throw new IllegalStateException("boom");
    }, Duration.ZERO, Duration.ofSeconds(1));

    assertThat(env.runDue()).isEqualTo(1);
    env.advance(Duration.ofSeconds(1));
    assertThat(env.runDue()).isEqualTo(1);
    assertThat(env.logged()).hasSize(2).allSatisfy(line -> {
      assertThat(line.level()).isEqualTo(Level.ERROR);
      assertThat(line.message()).isEqualTo("background work failed");
      assertThat(line.error()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    });
  }

  @Test
  void periodsMustBePositive() {
    assertThatThrownBy(() -> env.scheduleAtFixedRate(record("x"), Duration.ZERO, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("period: PT0S (expected: > 0)");
  }

  @Test
  void theLoggerKeepsEveryLineFormattedWithItsLevelAndError() {
    IOException disk = new IOException("disk full");
    env.logger().debug("opened {}", "/tmp/a");
    env.logger().warn("{} line(s) dropped for {}", 3, "stdout");
    env.logger().atWarn().addArgument("stderr").log("slow output {}");
    env.logger().error("cannot write {}", "/tmp/a", disk);

    assertThat(env.logged()).containsExactly(
        new TestEnv.LogLine(Level.DEBUG, "opened /tmp/a", null),
        new TestEnv.LogLine(Level.WARN, "3 line(s) dropped for stdout", null),
        new TestEnv.LogLine(Level.WARN, "slow output stderr", null),
        new TestEnv.LogLine(Level.ERROR, "cannot write /tmp/a", disk));
    assertThat(env.messages(Level.WARN)).containsExactly("3 line(s) dropped for stdout", "slow output stderr");
    assertThat(env.messages(Level.INFO)).isEmpty();
    assertThat(env.logger().getName()).isEqualTo(TestEnv.DEFAULT_LOGGER_NAME);
  }

  @Test
  void envsDoNotShareLogLinesEvenWithOneLoggerName() {
    TestEnv other = TestEnv.create();
    other.logger().warn("only here");
    assertThat(other.messages(Level.WARN)).containsExactly("only here");
    assertThat(env.logged()).isEmpty();
    assertThat(TestEnv.builder().loggerName("acme.test").build().logger().getName()).isEqualTo("acme.test");
  }

  @Test
  void counterValueSumsTheDataPointsWithTheGivenLabels() {
    Counter fetches = env.metrics().counter("acme_fetches", "Fetches by url and result", "url", "result");
    fetches.labelValues("http://a", "ok").inc(2);
    fetches.labelValues("http://b", "ok").inc();
    fetches.labelValues("http://a", "error").inc();

    assertThat(env.counterValue("acme_fetches", "url", "http://a", "result", "ok")).isEqualTo(2);
    assertThat(env.counterValue("acme_fetches", "result", "ok")).isEqualTo(3);
    assertThat(env.counterValue("acme_fetches")).isEqualTo(4);
    assertThat(env.counterValue("acme_fetches", "result", "unchanged")).isZero();
    assertThat(env.counterValue("acme_unknown")).isZero();
    assertThat(env.gaugeValue("acme_fetches")).isZero(); // a counter is not a gauge
    assertThat(env.metrics().counter("acme_fetches", "Fetches by url and result", "url", "result")).isSameAs(fetches);
    assertThatThrownBy(() -> env.counterValue("acme_fetches", "result"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("labels: [result] (expected: name/value pairs)");
  }

  @Test
  void aCounterNamedWithTotalIsFoundByThatName() {
    env.metrics().counter("acme_requests_total", "Requests").inc(5);
    assertThat(env.counterValue("acme_requests_total")).isEqualTo(5);
  }

  @Test
  void gaugeValueReadsTheDataPointWithTheGivenLabels() {
    env.metrics().gauge("acme_queue_length", "Lines waiting", "output").labelValues("stdout").set(7);
    env.metrics().gauge("acme_queue_length", "Lines waiting", "output").labelValues("file").set(2);
    assertThat(env.gaugeValue("acme_queue_length", "output", "stdout")).isEqualTo(7);
    assertThat(env.gaugeValue("acme_queue_length", "output", "stderr")).isZero();
  }

  @Test
  void metricsRejectOneNameWithOtherLabelsAsMixerDoes() {
    env.metrics().counter("acme_drops", "Drops", "reason");
    assertThatThrownBy(() -> env.metrics().counter("acme_drops", "Drops", "reason", "output"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("acme_drops");
  }

  @Test
  @Timeout(30)
  void withBackgroundThreadsWorkRunsByItselfAndCloseInterruptsDaemons() throws Exception {
    try (TestEnv threaded = TestEnv.builder().backgroundThreads().build()) {
      CountDownLatch ticks = new CountDownLatch(3);
      threaded.scheduleWork(record("work")).get(10, TimeUnit.SECONDS);
      threaded.schedule(record("delayed"), Duration.ofMillis(1)).get(10, TimeUnit.SECONDS);
      threaded.scheduleAtFixedRate(ticks::countDown, Duration.ZERO, Duration.ofMillis(1));
      assertThat(ticks.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(ran).containsExactly("work", "delayed");

      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch interrupted = new CountDownLatch(1);
      Future<?> daemon = threaded.scheduleDaemon(() -> {
        started.countDown();
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException e) {
          interrupted.countDown();
        }
      });
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      assertThatThrownBy(threaded::runDue).isInstanceOf(IllegalStateException.class);

      threaded.close();
      assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(daemon.isCancelled()).isTrue();
      assertThat(threaded.scheduled()).allSatisfy(t -> assertThat(t.isDone()).isTrue());
      assertThatThrownBy(() -> threaded.scheduleWork(record("late")))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("the TestEnv is closed; no more background work");
    }
  }

  @Test
  @Timeout(30)
  void cancellingADaemonInterruptsItsThread() throws Exception {
    try (TestEnv threaded = TestEnv.builder().backgroundThreads().build()) {
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch interrupted = new CountDownLatch(1);
      Future<?> daemon = threaded.scheduleDaemon(() -> {
        started.countDown();
        try {
          Thread.sleep(60_000);
        } catch (InterruptedException e) {
          interrupted.countDown();
        }
      });
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      daemon.cancel(true);
      assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }
}
