package io.istio4j.adapters.redisquota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import io.istio4j.adapters.redisquota.config.Params;
import io.istio4j.mixer.runtime.ConfigStatusJson;
import io.istio4j.mixer.runtime.HandlerEnv;
import io.istio4j.mixer.runtime.RegistryAdapterMetrics;
import io.istio4j.template.quota.QuotaInstance;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.args.ClientPauseMode;

/** redisquota against a real redis-server started by the test. */
class RedisQuotaIT {

  private static final String RC = "requestcount.quota.istio-system";
  private RedisServer redis;
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final AtomicLong ids = new AtomicLong();

  @BeforeEach
  void startRedis() throws Exception {
    redis = RedisServer.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    redis.close();
  }

  private RedisQuotaHandler handler(Params.Quota quota, Params.Builder extra) {
    return handler(redis.url(), quota, extra, Map.of());
  }

  private RedisQuotaHandler handler(String url, Params.Quota quota, Params.Builder extra) {
    return handler(url, quota, extra, Map.of());
  }

  private RedisQuotaHandler handler(Params.Quota quota, Params.Builder extra, Map<String, ValueType> dimensionTypes) {
    return handler(redis.url(), quota, extra, dimensionTypes);
  }

  /** The env and metrics of the handler built last. */
  private HandlerEnv env;
  private PrometheusRegistry registry;

  private RedisQuotaHandler handler(String url, Params.Quota quota, Params.Builder extra,
      Map<String, ValueType> dimensionTypes) {
    Params.Builder b = RedisQuotaAdapter.DEFAULTS.toBuilder();
    extra.build().getAllFields().forEach(b::setField); // replace, as a spec field does
    Params params = b.setRedisServerUrl(url).addQuotas(quota).build();
    registry = new PrometheusRegistry();
    env = new HandlerEnv("redisquota", "handler.redisquota.istio-system", Clock.systemUTC(),
        Executors.newSingleThreadScheduledExecutor(), Executors.newCachedThreadPool(),
        new RegistryAdapterMetrics(registry));
    RedisQuotaHandler h = new RedisQuotaHandler(params, RedisAddress.parse(params.getRedisServerUrl()), env,
        Map.of(RC, dimensionTypes));
    closing.add(h);
    closing.add(env);
    return h;
  }

  private static Params.Quota fixed(long max, Duration window) {
    return Params.Quota.newBuilder().setName(RC).setMaxAmount(max)
        .setValidDuration(Durations.fromMillis(window.toMillis())).build();
  }

  private static Params.Quota rolling(long max, Duration window, Duration bucket) {
    return fixed(max, window).toBuilder().setRateLimitAlgorithm(Params.QuotaAlgorithm.ROLLING_WINDOW)
        .setBucketDuration(Durations.fromMillis(bucket.toMillis())).build();
  }

  private QuotaResult allocate(RedisQuotaHandler h, Map<String, Object> dims, long amount, boolean bestEffort) {
    return quota(h, new QuotaInstance(RC, dims), new QuotaArgs("id-" + ids.incrementAndGet(), amount, bestEffort));
  }

  /** One allocation, waited for: the handler answers through a stage. */
  static QuotaResult quota(RedisQuotaHandler h, QuotaInstance instance, QuotaArgs args) {
    try {
      return h.handleQuotaAsync(instance, args).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("no answer to " + args, e);
    }
  }

  @Test
  void aFixedWindowGrantsUpToItsLimitUntilTheWindowEnds() throws Exception {
    RedisQuotaHandler h = handler(fixed(3, Duration.ofMillis(1500)), Params.newBuilder());
    Map<String, Object> d = Map.of("source", "reviews");
    assertThat(allocate(h, d, 2, false).amount()).isEqualTo(2);
    assertThat(allocate(h, d, 2, false).amount()).as("all or nothing").isZero();
    QuotaResult rest = allocate(h, d, 2, true);
    assertThat(rest.amount()).as("best effort").isEqualTo(1);
    assertThat(rest.validDuration()).isPositive().isLessThanOrEqualTo(Duration.ofMillis(1500));
    assertThat(allocate(h, Map.of("source", "ratings"), 3, false).amount()).as("another cell").isEqualTo(3);
    Thread.sleep(1600);
    assertThat(allocate(h, d, 3, false).amount()).as("a new window").isEqualTo(3);
  }

  @Test
  void aRollingWindowForgetsBucketsAsTheyLeaveIt() throws Exception {
    RedisQuotaHandler h = handler(rolling(5, Duration.ofMillis(1000), Duration.ofMillis(100)), Params.newBuilder());
    Map<String, Object> d = Map.of();
    assertThat(allocate(h, d, 3, false).amount()).isEqualTo(3);
    Thread.sleep(600);
    assertThat(allocate(h, d, 3, true).amount()).isEqualTo(2);
    assertThat(allocate(h, d, 1, false).amount()).isZero();
    Thread.sleep(700); // the first 3 have left the window, the 2 have not
    assertThat(allocate(h, d, 5, true).amount()).isEqualTo(3);
    assertThat(allocate(h, d, 1, false).validDuration()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void theFirstMatchingOverrideSetsTheLimit() {
    Params.Quota q = fixed(100, Duration.ofSeconds(30)).toBuilder()
        .addOverrides(Params.Override.newBuilder().putDimensions("destination", "ratings")
            .putDimensions("source", "reviews").setMaxAmount(1))
        .addOverrides(Params.Override.newBuilder().putDimensions("destination", "ratings").setMaxAmount(2))
        .build();
    RedisQuotaHandler h = handler(q, Params.newBuilder());
    assertThat(allocate(h, Map.of("destination", "ratings", "source", "reviews"), 5, true).amount()).isEqualTo(1);
    assertThat(allocate(h, Map.of("destination", "ratings", "source", "productpage"), 5, true).amount()).isEqualTo(2);
    assertThat(allocate(h, Map.of("destination", "details"), 5, true).amount()).isEqualTo(5);
  }

  @Test
  void aRetriedRequestIsGrantedOnce() {
    RedisQuotaHandler h = handler(fixed(2, Duration.ofSeconds(30)), Params.newBuilder());
    QuotaInstance i = new QuotaInstance(RC, Map.of());
    assertThat(quota(h, i, new QuotaArgs("req-1RequestCount", 2, false)).amount()).isEqualTo(2);
    assertThat(quota(h, i, new QuotaArgs("req-1RequestCount", 2, false)).amount())
        .as("the retry gets the first answer, nothing charged").isEqualTo(2);
    assertThat(quota(h, i, new QuotaArgs("req-2RequestCount", 1, false)).amount()).isZero();
  }

  @Test
  void aCallWithoutADeduplicationIdIsNeverAReplay() {
    RedisQuotaHandler h = handler(fixed(2, Duration.ofSeconds(30)), Params.newBuilder());
    QuotaInstance i = new QuotaInstance(RC, Map.of());
    assertThat(quota(h, i, new QuotaArgs("", 1, false)).amount()).isEqualTo(1);
    assertThat(quota(h, i, new QuotaArgs("", 1, false)).amount()).isEqualTo(1);
    assertThat(quota(h, i, new QuotaArgs("", 1, false)).amount()).as("the limit, not a replay").isZero();
  }

  @Test
  void anIpAddressDimensionLimitsByItsGoTextAndIsOverriddenByIt() throws Exception {
    Params.Quota q = fixed(3, Duration.ofSeconds(30)).toBuilder()
        .addOverrides(Params.Override.newBuilder().putDimensions("source", "::ffff:10.0.0.9").setMaxAmount(1))
        .addOverrides(Params.Override.newBuilder().putDimensions("latency", "1000ms").setMaxAmount(2))
        .build();
    RedisQuotaHandler h = handler(q, Params.newBuilder(),
        Map.of("source", ValueType.IP_ADDRESS, "latency", ValueType.DURATION));
    byte[] four = {10, 0, 0, 1};
    byte[] sixteen = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 1};
    assertThat(allocate(h, Map.of("source", four), 2, false).amount()).isEqualTo(2);
    // A new byte[] per request printed as [B@... once: a new cell every time, never a limit.
    assertThat(allocate(h, Map.of("source", sixteen.clone()), 2, false).amount()).as("the same address").isZero();
    assertThat(allocate(h, Map.of("source", new byte[] {10, 0, 0, 9}), 2, true).amount()).as("override").isEqualTo(1);
    assertThat(allocate(h, Map.of("latency", Duration.ofSeconds(1)), 5, true).amount()).as("1000ms is 1s").isEqualTo(2);
    try (Jedis jedis = new Jedis("127.0.0.1", redis.port())) {
      assertThat(jedis.keys("istio4j:quota:*")).contains(
          "istio4j:quota:{" + RC + ";source=10.0.0.1}:f", "istio4j:quota:{" + RC + ";source=10.0.0.9}:f",
          "istio4j:quota:{" + RC + ";latency=1s}:f");
    }
  }

  @Test
  void anOverrideOnADimensionTheInstanceLacksOrOfTheWrongTypeIsAConfigError() {
    String config = """
        apiVersion: config.istio.io/v1alpha2
        kind: redisquota
        metadata: {name: handler, namespace: istio-system}
        spec:
          redisServerUrl: %s
          quotas:
          - name: requestcount.quota.istio-system
            maxAmount: 10
            validDuration: 1s
            overrides:
            - dimensions: {sourceip: "10.0.0.1"}
              maxAmount: 1
            - dimensions: {source: "010.0.0.1"}
              maxAmount: 1
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: quota
        metadata: {name: requestcount, namespace: istio-system}
        spec:
          dimensions:
            source: source.ip | ip("0.0.0.0")
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: quota, namespace: istio-system}
        spec:
          actions: [{handler: handler.redisquota, instances: [requestcount.quota]}]
        """.formatted(redis.url());
    assertThatThrownBy(() -> TestMixer.builder().adapters(new RedisQuotaAdapter()).config(config).start())
        .hasMessageContaining("quotas[0].overrides[0].dimensions.sourceip: not a dimension of quota instance "
            + "'requestcount.quota.istio-system', so the override never applies (expected one of: source)")
        .hasMessageContaining("quotas[0].overrides[1].dimensions.source: '010.0.0.1' is no IP_ADDRESS");
  }

  @Test
  void aRetryGetsWhatTheFirstCallGotWhenThatWasPartOrNothing() {
    RedisQuotaHandler h = handler(fixed(3, Duration.ofSeconds(30)), Params.newBuilder());
    QuotaInstance i = new QuotaInstance(RC, Map.of());
    QuotaResult first = quota(h, i, new QuotaArgs("full", 2, false));
    assertThat(first.amount()).isEqualTo(2);
    assertThat(first.validDuration()).as("what is left of the window")
        .isPositive().isLessThanOrEqualTo(Duration.ofSeconds(30));
    assertThat(quota(h, i, new QuotaArgs("part", 2, true)).amount()).isEqualTo(1);
    assertThat(quota(h, i, new QuotaArgs("part", 2, true)).amount()).as("retry of a partial grant").isEqualTo(1);
    assertThat(quota(h, i, new QuotaArgs("none", 1, false)).amount()).isZero();
    assertThat(quota(h, i, new QuotaArgs("none", 1, false)).amount()).as("retry of a denial").isZero();
    assertThat(quota(h, i, new QuotaArgs("negative", -2, false)).amount()).isZero();
    assertThat(quota(h, i, new QuotaArgs("negative", -2, false)).amount()).as("retry of a negative amount").isZero();
    assertThat(quota(h, i, new QuotaArgs("later", 1, false)).amount()).as("nothing was given back").isZero();
  }

  @Test
  void hugeAmountsAreAnsweredExactlyAndLeaveTheCounterAlone() {
    RedisQuotaHandler h = handler(fixed(5, Duration.ofSeconds(30)), Params.newBuilder());
    QuotaInstance i = new QuotaInstance(RC, Map.of());
    long huge = 123_456_789_012_345_678L; // beyond 2^53: a Lua number cannot hold it exactly
    assertThat(quota(h, i, new QuotaArgs("a", huge, false)).amount()).isZero();
    assertThat(quota(h, i, new QuotaArgs("b", 2, false)).amount()).as("the counter is untouched").isEqualTo(2);
    assertThat(quota(h, i, new QuotaArgs("c", Long.MAX_VALUE, true)).amount()).as("best effort: the rest").isEqualTo(3);
    assertThat(quota(h, i, new QuotaArgs("c", Long.MAX_VALUE, true)).amount()).as("its retry").isEqualTo(3);
    assertThat(quota(h, i, new QuotaArgs("a", huge, false)).amount()).as("a retry of the denial").isZero();
  }

  @Test
  void limitsBeyondWhatTheScriptsCountExactlyAreAConfigError() {
    assertThatThrownBy(() -> startMixer(redis.url(), 9_007_199_254_740_991L))
        .hasMessageContaining("quotas[0].maxAmount: 9007199254740991 (expected: 0 to 9007199254740990)");
  }

  /** Starts (and stops) a Mixer whose only object is a redisquota handler with one quota. */
  private static void startMixer(String url, long maxAmount) {
    String config = """
        apiVersion: config.istio.io/v1alpha2
        kind: redisquota
        metadata: {name: handler, namespace: istio-system}
        spec:
          redisServerUrl: "%s"
          quotas: [{name: requestcount.quota.istio-system, maxAmount: %d, validDuration: 1s}]
        """;
    TestMixer.builder().adapters(new RedisQuotaAdapter()).config(config.formatted(url, maxAmount)).start().close();
  }


  @Test
  void manyThreadsNeverGetMoreThanTheLimit() throws Exception {
    RedisQuotaHandler h = handler(fixed(500, Duration.ofSeconds(60)), Params.newBuilder().setConnectionPoolSize(16));
    var pool = Executors.newFixedThreadPool(16);
    List<Future<Long>> results = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      results.add(pool.submit(() -> {
        long granted = 0;
        for (int n = 0; n < 100; n++) {
          granted += allocate(h, Map.of("source", "reviews"), 1 + n % 3, n % 2 == 0).amount();
        }
        return granted;
      }));
    }
    long total = 0;
    for (Future<Long> f : results) {
      total += f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(total).isEqualTo(500);
  }

  @Test
  void whileRedisIsDownTheFailurePolicyAnswersAndItRecoversByItself() throws Exception {
    RedisQuotaHandler grant = handler(fixed(2, Duration.ofSeconds(60)),
        Params.newBuilder().setRetryInterval(Durations.fromMillis(200)));
    RedisQuotaHandler deny = handler(fixed(2, Duration.ofSeconds(60)).toBuilder()
            .setName(RC).build(),
        Params.newBuilder().setRetryInterval(Durations.fromMillis(200)).setFailurePolicy(Params.FailurePolicy.DENY));
    assertThat(allocate(grant, Map.of("c", "g"), 2, false).amount()).isEqualTo(2);
    assertThat(allocate(grant, Map.of("c", "g"), 1, false).amount()).isZero();

    int port = redis.port();
    redis.kill();
    QuotaResult down = allocate(grant, Map.of("c", "g"), 1, false);
    assertThat(down.amount()).as("GRANT: an outage is not a wall of 429s").isEqualTo(1);
    assertThat(down.validDuration()).isEqualTo(Duration.ofSeconds(1));
    assertThat(allocate(deny, Map.of("c", "d"), 1, false).amount()).as("DENY").isZero();
    assertThat(allocate(grant, Map.of("c", "g"), 1, false).amount()).isEqualTo(1);

    redis = RedisServer.start(port); // a new process: empty, and without our scripts
    Thread.sleep(300);
    assertThat(allocate(grant, Map.of("c", "g"), 2, false).amount()).as("counting again in Redis").isEqualTo(2);
    assertThat(allocate(grant, Map.of("c", "g"), 1, false).amount()).isZero();
  }

  /**
   * After Redis fails, allocations within the retry interval are answered without contacting Redis:
   * a listener on Redis's port counts every connection, and a handler that retries at once shows
   * that each attempt would have been seen.
   */
  @Test
  void withinTheRetryIntervalRedisIsNotAskedAgain() throws Exception {
    RedisQuotaHandler patient = handler(fixed(100, Duration.ofSeconds(60)),
        Params.newBuilder().setRetryInterval(Durations.fromSeconds(600)));
    RedisQuotaHandler eager = handler(fixed(100, Duration.ofSeconds(60)),
        Params.newBuilder().setRetryInterval(Durations.fromMillis(1)));
    assertThat(allocate(patient, Map.of("c", "p"), 1, false).amount()).isEqualTo(1);
    assertThat(allocate(eager, Map.of("c", "e"), 1, false).amount()).isEqualTo(1);

    int port = redis.port();
    redis.kill();
    try (ConnectionCounter counter = new ConnectionCounter(port)) {
      assertThat(allocate(patient, Map.of("c", "p"), 1, false).amount())
          .as("the first allocation finds Redis gone: GRANT by the failure policy").isEqualTo(1);
      long seen = counter.accepted();
      for (int i = 0; i < 20; i++) {
        assertThat(allocate(patient, Map.of("c", "p"), 1, false).amount()).isEqualTo(1);
      }
      assertThat(counter.accepted()).as("connections to Redis's port within the retry interval").isEqualTo(seen);

      // The same calls from a handler that retries at once do reach the port: the counter sees attempts.
      for (int i = 0; i < 3; i++) {
        assertThat(allocate(eager, Map.of("c", "e"), 1, false).amount()).isEqualTo(1);
        Thread.sleep(5); // past its 1 ms retry interval
      }
      assertThat(counter.accepted()).isGreaterThan(seen);
    }
  }

  /** Accepts connections on a port, counts them, and closes them at once: a Redis that fails every call. */
  private static final class ConnectionCounter implements AutoCloseable {
    private final ServerSocket socket;
    private final AtomicLong accepted = new AtomicLong();
    private final Thread acceptor;

    ConnectionCounter(int port) throws IOException {
      socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      acceptor = new Thread(() -> {
        try {
          while (true) {
            socket.accept().close();
            accepted.incrementAndGet();
          }
        } catch (IOException closed) {
          // close() ends the loop
        }
      }, "redis-port-counter");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    /** Connections accepted so far; waits until the acceptor has caught up with the backlog. */
    long accepted() throws InterruptedException {
      long last = -1;
      while (last != accepted.get()) {
        last = accepted.get();
        Thread.sleep(50);
      }
      return last;
    }

    @Override
    public void close() throws Exception {
      socket.close();
      acceptor.join();
    }
  }

  @Test
  void aScenarioThroughMixerMatchesItsGoldenFile() {
    String config = """
        apiVersion: config.istio.io/v1alpha2
        kind: redisquota
        metadata: {name: handler, namespace: istio-system}
        spec:
          redisServerUrl: "%s"
          connectionPoolSize: 4
          quotas:
          - name: requestcount.quota.istio-system
            maxAmount: 2
            validDuration: 60s
            rateLimitAlgorithm: ROLLING_WINDOW
            bucketDuration: 1s
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: quota
        metadata: {name: requestcount, namespace: istio-system}
        spec:
          dimensions:
            source: source.service | "unknown"
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: quota, namespace: istio-system}
        spec:
          actions:
          - handler: handler.redisquota
            instances: [requestcount.quota]
        """.formatted(redis.url());
    Map<String, Object> request = Map.of("destination.service", "ratings.default.svc.cluster.local",
        "source.service", "reviews.default.svc.cluster.local");
    Scenario.builder()
        .adapters(new RedisQuotaAdapter())
        .config(config)
        .quota(request, "RequestCount", 1)
        .quota(request, "RequestCount", 1)
        .quota(request, "RequestCount", 1)
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/redisquota.json"));
  }

  @Test
  void aWrongUrlIsAClearConfigError() {
    assertThatThrownBy(() -> startMixer("localhost", 1))
        .hasMessageContaining("redisServerUrl: 'localhost' (expected: host:port or redis://host:port)");
    assertThatThrownBy(() -> startMixer("http://localhost:6379", 1))
        .hasMessageContaining("scheme http (expected: redis or rediss)");
  }

  @Test
  void aMalformedUrlIsNeverEchoedWithItsPassword() {
    for (String url : new String[] {"redis://:s3cret@localhost:notaport", "redis://u:s3cret w@localhost:6379",
        "u:s3cret@localhost:6379", "redis://u:s3cret@localhost:6379/db"}) {
      assertThatThrownBy(() -> startMixer(url, 1))
          .hasMessageContaining("redisServerUrl: '")
          .hasMessageContaining("***@")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("s3cret"));
    }
  }

  private double failures(String reason) {
    return metric("redisquota_failures", reason);
  }

  /** The sum of a counter of the handler built last, over the series with {@code reason} (or all, if null). */
  private double metric(String name, String reason) {
    double sum = 0;
    for (var m : registry.scrape()) {
      if (m.getMetadata().getName().equals(name)) {
        for (var p : m.getDataPoints()) {
          if (reason == null || reason.equals(p.getLabels().get("reason"))) {
            sum += ((CounterDataPointSnapshot) p).getValue();
          }
        }
      }
    }
    return sum;
  }

  @Test
  void everyAnswerByTheFailurePolicyIsCountedAsTheHelpSays() throws Exception {
    RedisQuotaHandler h = handler(fixed(2, Duration.ofSeconds(60)),
        Params.newBuilder().setRetryInterval(Durations.fromSeconds(60)));
    assertThat(allocate(h, Map.of("c", "g"), 1, false).amount()).isEqualTo(1);
    redis.kill();
    for (int i = 0; i < 5; i++) { // the first reaches for Redis, the others wait out the retry interval
      allocate(h, Map.of("c", "g"), 1, false);
    }
    assertThat(failures("unreachable")).isEqualTo(5); // before: 1, the calls answered without Redis uncounted
    assertThat(env.error()).as("an outage is not a handler error").isNull();
  }

  @Test
  void aRedisThatRefusesTheCredentialsIsAHandlerErrorNotAnOutage() throws Exception {
    try (RedisServer secured = RedisServer.startWithPassword("right")) {
      String wrong = "redis://:wrong@localhost:" + secured.port();
      RedisQuotaHandler h = handler(wrong, fixed(2, Duration.ofSeconds(60)),
          Params.newBuilder().setRetryInterval(Durations.fromMillis(1)));
      HandlerEnv wrongEnv = env;
      assertThat(allocate(h, Map.of("c", "g"), 1, false).amount()).as("GRANT policy").isEqualTo(1);
      assertThat(env.error()).startsWith("Redis at redis://localhost:" + secured.port() + "/0 refused the credentials: ")
          .doesNotContain("wrong");
      assertThat(failures("auth")).isGreaterThanOrEqualTo(1);
      assertThat(failures("unreachable")).isZero();

      String none = "redis://localhost:" + secured.port(); // NOAUTH: no password sent at all
      RedisQuotaHandler noAuth = handler(none, fixed(2, Duration.ofSeconds(60)),
          Params.newBuilder().setRetryInterval(Durations.fromMillis(1)));
      allocate(noAuth, Map.of("c", "g"), 1, false);
      assertThat(env.error()).contains("refused the credentials").contains("NOAUTH");

      // The operator makes Redis take the handler's password: the error clears at the next allocation.
      try (Jedis admin = new Jedis("127.0.0.1", secured.port())) {
        admin.auth("right");
        admin.configSet("requirepass", "wrong");
      }
      for (int i = 0; i < 100 && wrongEnv.error() != null; i++) {
        Thread.sleep(10); // past the 1 ms retry interval
        allocate(h, Map.of("c", "g"), 1, false);
      }
      assertThat(wrongEnv.error()).isNull();
    }
  }

  @Test
  void theCredentialsErrorShowsOnTheConfigStatusPage() throws Exception {
    try (RedisServer secured = RedisServer.startWithPassword("right");
        TestMixer mixer = TestMixer.builder().adapters(new RedisQuotaAdapter())
            .config(STATUS_CONFIG.formatted("redis://:wrong@localhost:" + secured.port())).start()) {
      mixer.check(Map.of("destination.service", "ratings.default.svc.cluster.local"), Map.of("RequestCount", 1L));
      String json = ConfigStatusJson.render(mixer.runtime().snapshot(), true);
      assertThat(json).contains("\"handlerError\" : \"Redis at redis://localhost:" + secured.port()
          + "/0 refused the credentials: WRONGPASS").doesNotContain(":wrong@");
    }
  }

  private static final String STATUS_CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: redisquota
      metadata: {name: handler, namespace: istio-system}
      spec:
        redisServerUrl: "%s"
        quotas:
        - {name: requestcount.quota.istio-system, maxAmount: 2, validDuration: 60s}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec: {dimensions: {source: source.service | "unknown"}}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: quota, namespace: istio-system}
      spec:
        actions: [{handler: handler.redisquota, instances: [requestcount.quota]}]
      """;


  /** Pauses every Redis client's commands for {@code millis} (CLIENT PAUSE ALL): what arrives meanwhile queues up. */
  private void pauseRedis(long millis) {
    try (Jedis admin = new Jedis("127.0.0.1", redis.port())) {
      admin.clientPause(millis, ClientPauseMode.ALL);
    }
  }

  private static QuotaResult await(CompletionStage<QuotaResult> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void allocationsArrivingTogetherShareOnePipelineAndNeverExceedTheLimit() throws Exception {
    RedisQuotaHandler h = handler(fixed(500, Duration.ofSeconds(60)),
        Params.newBuilder().setCommandTimeout(Durations.fromSeconds(10)));
    assertThat(allocate(h, Map.of("source", "other"), 1, false).amount()).isEqualTo(1); // connected
    double pipelinesBefore = metric("redisquota_pipelines", null);
    double sentBefore = metric("redisquota_pipelined_allocations", null);
    pauseRedis(300); // the first pipelines wait in Redis; what arrives meanwhile queues up behind them
    QuotaInstance i = new QuotaInstance(RC, Map.of("source", "reviews"));
    List<CompletionStage<QuotaResult>> answers = new ArrayList<>();
    for (int n = 0; n < 2000; n++) { // no thread waits: all are in flight at once
      answers.add(h.handleQuotaAsync(i, new QuotaArgs("id-" + n, 1 + n % 3, n % 2 == 0)));
    }
    long granted = 0;
    for (CompletionStage<QuotaResult> a : answers) {
      granted += await(a).amount();
    }
    assertThat(granted).as("granted in total for a limit of 500").isEqualTo(500);
    assertThat(failures("unreachable") + failures("error") + failures("overloaded")).isZero();
    double pipelines = metric("redisquota_pipelines", null) - pipelinesBefore;
    assertThat(metric("redisquota_pipelined_allocations", null) - sentBefore).isEqualTo(2000);
    assertThat(pipelines).as("pipelines for 2000 allocations (at most 64 each)")
        .isGreaterThanOrEqualTo(2000 / 64).isLessThan(200);
    try (Jedis jedis = new Jedis("127.0.0.1", redis.port())) {
      assertThat(jedis.get("istio4j:quota:{" + RC + ";source=reviews}:f")).isEqualTo("500");
    }
  }

  @Test
  void aPipelineLimitOfOneSendsEveryAllocationAlone() throws Exception {
    RedisQuotaHandler h = handler(fixed(1000, Duration.ofSeconds(60)),
        Params.newBuilder().setPipelineLimit(1).setCommandTimeout(Durations.fromSeconds(10)));
    assertThat(allocate(h, Map.of(), 1, false).amount()).isEqualTo(1);
    double before = metric("redisquota_pipelines", null);
    pauseRedis(200);
    List<CompletionStage<QuotaResult>> answers = new ArrayList<>();
    for (int n = 0; n < 50; n++) {
      answers.add(h.handleQuotaAsync(new QuotaInstance(RC, Map.of()), new QuotaArgs("", 1, false)));
    }
    for (CompletionStage<QuotaResult> a : answers) {
      assertThat(await(a).amount()).isEqualTo(1);
    }
    assertThat(metric("redisquota_pipelines", null) - before).isEqualTo(50);
  }

  @Test
  void anAllocationCancelledWhileQueuedIsNeverSentAndTheOthersAreAnswered() throws Exception {
    RedisQuotaHandler h = handler(fixed(1000, Duration.ofSeconds(60)),
        Params.newBuilder().setConnectionPoolSize(1).setCommandTimeout(Durations.fromSeconds(10)));
    assertThat(allocate(h, Map.of("c", "warm"), 1, false).amount()).isEqualTo(1);
    double sentBefore = metric("redisquota_pipelined_allocations", null);
    pauseRedis(300);
    QuotaInstance i = new QuotaInstance(RC, Map.of("c", "x"));
    CompletionStage<QuotaResult> first = h.handleQuotaAsync(i, new QuotaArgs("", 1, false));
    List<CompletionStage<QuotaResult>> kept = new ArrayList<>();
    List<CompletableFuture<QuotaResult>> cancelled = new ArrayList<>();
    for (int n = 0; n < 40; n++) {
      CompletionStage<QuotaResult> a = h.handleQuotaAsync(i, new QuotaArgs("", 1, false));
      if (n % 2 == 0) {
        kept.add(a);
      } else {
        cancelled.add(a.toCompletableFuture());
      }
    }
    // The one sender is held by the paused Redis with at most the first allocations; the rest is queued.
    for (CompletableFuture<QuotaResult> c : cancelled) {
      assertThat(c.cancel(true)).as("cancel, as Mixer does at the call's deadline").isTrue();
    }
    assertThat(await(first).amount()).isEqualTo(1);
    for (CompletionStage<QuotaResult> a : kept) {
      assertThat(await(a).amount()).isEqualTo(1);
    }
    assertThat(allocate(h, Map.of("c", "x"), 1, false).amount()).as("the pipeline goes on").isEqualTo(1);
    double sent = metric("redisquota_pipelined_allocations", null) - sentBefore;
    try (Jedis jedis = new Jedis("127.0.0.1", redis.port())) {
      long charged = Long.parseLong(jedis.get("istio4j:quota:{" + RC + ";c=x}:f"));
      assertThat(charged).as("what Redis counted is what was sent").isEqualTo((long) sent);
      assertThat(charged).as("cancelled while queued: not sent").isLessThan(42);
    }
    assertThat(failures("unreachable") + failures("error")).isZero();
  }

  @Test
  void aFullQueueIsAnsweredByTheFailurePolicyAtOnceAndCloseAnswersWhatIsQueued() throws Exception {
    try (StalledServer stalled = new StalledServer()) {
      RedisQuotaHandler h = handler("127.0.0.1:" + stalled.port(), fixed(10, Duration.ofSeconds(60)),
          Params.newBuilder().setConnectionPoolSize(1).setQueueSize(2).setFailurePolicy(Params.FailurePolicy.DENY)
              .setConnectTimeout(Durations.fromSeconds(60)).setCommandTimeout(Durations.fromSeconds(60)),
          Map.of());
      QuotaInstance i = new QuotaInstance(RC, Map.of());
      // The one sender waits for Redis's handshake reply, which never comes: allocations queue up.
      CompletableFuture<QuotaResult> a = h.handleQuotaAsync(i, new QuotaArgs("", 1, false)).toCompletableFuture();
      CompletableFuture<QuotaResult> b = h.handleQuotaAsync(i, new QuotaArgs("", 1, false)).toCompletableFuture();
      CompletableFuture<QuotaResult> full = h.handleQuotaAsync(i, new QuotaArgs("", 1, false)).toCompletableFuture();
      assertThat(full).as("answered without waiting").isDone();
      assertThat(full.get().amount()).as("DENY").isZero();
      assertThat(failures("overloaded")).isEqualTo(1);
      assertThat(a).isNotDone();
      assertThat(b).isNotDone();

      CompletableFuture.runAsync(h::close).get(10, TimeUnit.SECONDS); // never waits for the stalled sender
      assertThat(a).as("answered by close").isDone();
      assertThat(b).isDone();
      assertThat(a.get().amount()).isZero();
      assertThat(await(h.handleQuotaAsync(i, new QuotaArgs("", 1, false))).amount()).as("after close").isZero();
    }
  }

  @Test
  void buildingTheHandlerNeverWaitsForRedis() throws Exception {
    try (StalledServer stalled = new StalledServer()) {
      // Before, the constructor loaded the scripts: it waited for the stalled server for commandTimeout.
      RedisQuotaHandler h = CompletableFuture.supplyAsync(() -> handler("127.0.0.1:" + stalled.port(),
              fixed(10, Duration.ofSeconds(60)), Params.newBuilder().setCommandTimeout(Durations.fromSeconds(120)),
              Map.of()))
          .get(20, TimeUnit.SECONDS);
      assertThat(h).isNotNull();
    }
  }

  @Test
  void aHandlerForAClosedPortBuildsAndAnswersByTheFailurePolicy() throws Exception {
    int closed = RedisServer.freePort();
    RedisQuotaHandler grant = handler("127.0.0.1:" + closed, fixed(1, Duration.ofSeconds(60)), Params.newBuilder());
    for (int n = 0; n < 3; n++) {
      assertThat(allocate(grant, Map.of(), 5, false).amount()).as("GRANT").isEqualTo(5);
    }
    assertThat(failures("unreachable")).isEqualTo(3);
    RedisQuotaHandler deny = handler("127.0.0.1:" + closed, fixed(1, Duration.ofSeconds(60)),
        Params.newBuilder().setFailurePolicy(Params.FailurePolicy.DENY));
    assertThat(allocate(deny, Map.of(), 5, false).amount()).as("DENY").isZero();
    assertThat(env.error()).as("an outage is not a handler error").isNull();
  }

  @Test
  void validationDoesNoDnsLookupAndAnUnknownHostIsAHandlerError() throws Exception {
    RedisQuotaBuilder builder = new RedisQuotaBuilder();
    builder.setQuotaTypes(Map.of());
    builder.setAdapterConfig(RedisQuotaAdapter.DEFAULTS.toBuilder().setRedisServerUrl("no-such-host.invalid:6379")
        .build());
    assertThat(builder.validate().isEmpty()).as("before: unknown host 'no-such-host.invalid'").isTrue();

    RedisQuotaHandler h = handler("no-such-host.invalid:6379", fixed(1, Duration.ofSeconds(60)), Params.newBuilder());
    assertThat(allocate(h, Map.of(), 2, false).amount()).as("GRANT").isEqualTo(2);
    assertThat(env.error()).isEqualTo("the host of Redis at redis://no-such-host.invalid:6379/0 is unknown "
        + "(DNS lookup failed)");
    assertThat(failures("unreachable")).isEqualTo(1);
  }

  @Test
  void redisKilledMidStreamIsAnsweredByThePolicyAndCountedAgainAfterItsRestart() throws Exception {
    RedisQuotaHandler h = handler(fixed(1_000_000, Duration.ofSeconds(60)),
        Params.newBuilder().setRetryInterval(Durations.fromMillis(100)).setFailurePolicy(Params.FailurePolicy.DENY));
    int port = redis.port();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong fromRedis = new AtomicLong();
    AtomicLong byPolicy = new AtomicLong();
    var pool = Executors.newFixedThreadPool(4);
    List<Future<?>> streams = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      streams.add(pool.submit(() -> {
        while (!stop.get()) {
          List<CompletionStage<QuotaResult>> burst = new ArrayList<>();
          for (int n = 0; n < 16; n++) {
            burst.add(h.handleQuotaAsync(new QuotaInstance(RC, Map.of()), new QuotaArgs("", 1, false)));
          }
          for (CompletionStage<QuotaResult> a : burst) {
            (await(a).amount() == 1 ? fromRedis : byPolicy).incrementAndGet(); // DENY answers 0
          }
        }
        return null;
      }));
    }
    awaitAtLeast(fromRedis, 500);
    redis.kill();
    awaitAtLeast(byPolicy, 200);
    redis = RedisServer.start(port); // a new process: empty, and without our scripts
    long before = fromRedis.get();
    awaitAtLeast(fromRedis, before + 500);
    stop.set(true);
    for (Future<?> s : streams) {
      s.get(30, TimeUnit.SECONDS); // every allocation was answered
    }
    pool.shutdown();
    assertThat(failures("unreachable")).isEqualTo(byPolicy.get());
    try (Jedis jedis = new Jedis("127.0.0.1", redis.port())) {
      long counted = Long.parseLong(jedis.get("istio4j:quota:{" + RC + "}:f"));
      assertThat(counted).as("granted since the restart, all counted in the new Redis")
          .isGreaterThanOrEqualTo(500).isLessThanOrEqualTo(fromRedis.get() - before);
    }
  }

  @Test
  void aRedisThatStopsAnsweringIsAnOutageUntilItAnswersAgain() throws Exception {
    RedisQuotaHandler h = handler(fixed(1000, Duration.ofSeconds(60)),
        Params.newBuilder().setCommandTimeout(Durations.fromMillis(100)).setRetryInterval(Durations.fromMillis(100))
            .setFailurePolicy(Params.FailurePolicy.DENY));
    assertThat(allocate(h, Map.of(), 1, false).amount()).isEqualTo(1);
    pauseRedis(1500); // alive and connected, but silent: replies stop coming
    assertThat(allocate(h, Map.of(), 1, false).amount()).as("DENY once commandTimeout passes").isZero();
    assertThat(failures("unreachable")).isGreaterThanOrEqualTo(1);
    long granted = 0;
    for (int i = 0; i < 500 && granted == 0; i++) {
      Thread.sleep(10);
      granted = allocate(h, Map.of(), 1, false).amount();
    }
    assertThat(granted).as("counting in Redis again once it answers").isEqualTo(1);
  }

  private static void awaitAtLeast(AtomicLong counter, long value) throws InterruptedException {
    for (int i = 0; i < 3000 && counter.get() < value; i++) {
      Thread.sleep(10);
    }
    assertThat(counter.get()).isGreaterThanOrEqualTo(value);
  }

  /** Accepts connections and never answers: a Redis that hangs. */
  private static final class StalledServer implements AutoCloseable {
    private final ServerSocket socket = new ServerSocket(0, 50,
        InetAddress.getLoopbackAddress());
    private final List<Socket> held = Collections.synchronizedList(new ArrayList<>());
    private final Thread acceptor;

    StalledServer() throws IOException {
      acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(socket.accept());
          }
        } catch (IOException closed) {
          // close() ends the loop
        }
      }, "stalled-redis");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      socket.close();
      acceptor.join();
      synchronized (held) {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }
}
