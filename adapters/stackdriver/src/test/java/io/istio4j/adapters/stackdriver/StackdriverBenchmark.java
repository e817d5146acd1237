package io.istio4j.adapters.stackdriver;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricType;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.slf4j.Logger;

/**
 * Metric instances aggregated by one stackdriver handler (upstream's four metrics, 5 dimensions,
 * 64 distinct label sets), while its daemon pushes to {@link FakeGoogleCloud} every 5 seconds off
 * the request path. Score: instances per second. Run (after {@code test-compile}):
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat target/test.classpath) org.openjdk.jmh.Main StackdriverBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StackdriverBenchmark {

  static final int BATCH = 100;

  private FakeGoogleCloud fake;
  private TestEnv env;
  private StackdriverHandler handler;
  private List<MetricInstance> batch;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    fake = FakeGoogleCloud.start();
    env = TestEnv.builder().backgroundThreads().build();
    StackdriverBuilder b = new StackdriverBuilder(Map.of(Clients.EMULATOR_ENV, fake.endpoint())::get);
    b.setAdapterConfig(StackdriverHandlerTest.params()
        .setPushInterval(Durations.fromSeconds(5)).build());
    b.setMetricTypes(Map.of(
        StackdriverHandlerTest.COUNT, new MetricType(
            ValueType.INT64, StackdriverHandlerTest.DIMS, Map.of()),
        StackdriverHandlerTest.DURATION, new MetricType(
            ValueType.DURATION, StackdriverHandlerTest.DIMS, Map.of())));
    handler = (StackdriverHandler) b.build(new SystemClockEnv(env));
    batch = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      String service = "svc-" + (i % 32) + ".default.svc.cluster.local";
      long code = i % 2 == 0 ? 200 : 503;
      batch.add(new MetricInstance(i % 2 == 0 ? StackdriverHandlerTest.COUNT : StackdriverHandlerTest.DURATION,
          i % 2 == 0 ? (Object) 1L : Duration.ofMillis(i), Map.of("destination_service", service,
          "response_code", code), "", Map.of()));
    }
  }

  /** TestEnv's threads and metrics with the system clock: pushes need time to pass. */
  record SystemClockEnv(TestEnv env) implements Env {
    @Override
    public Logger logger() {
      return env.logger();
    }

    @Override
    public Clock clock() {
      return Clock.systemUTC();
    }

    @Override
    public Future<?> scheduleWork(Runnable work) {
      return env.scheduleWork(work);
    }

    @Override
    public Future<?> scheduleDaemon(Runnable daemon) {
      return env.scheduleDaemon(daemon);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
      return env.schedule(work, delay);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
      return env.scheduleAtFixedRate(work, initialDelay, period);
    }

    @Override
    public AdapterMetrics metrics() {
      return env.metrics();
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    handler.close();
    env.close();
    System.out.println("\nseries pushed to the fake: " + fake.timeSeries().size() + " in "
        + fake.timeSeriesRequests.size() + " requests; refused: " + fake.refusals.size());
    fake.close();
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void handleMetric() {
    handler.handleMetric(batch);
  }
}
