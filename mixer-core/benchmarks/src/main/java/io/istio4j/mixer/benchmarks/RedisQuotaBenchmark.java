package io.istio4j.mixer.benchmarks;

import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.template.quota.QuotaAsyncHandler;
import io.istio4j.template.quota.QuotaInstance;
import io.istio4j.template.quota.QuotaType;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;

/**
 * One redisquota allocation (fixed window, with a deduplication id, as Envoy sends) versus the raw
 * round trip it is built on: a Jedis EVALSHA of a trivial script. Same Redis, same pool size, same
 * 8 client threads. The difference is the adapter's overhead: key building, arguments, the real
 * script's work in Redis and the result.
 *
 * <p>Starts its own redis-server on a free port (Debian: {@code apt-get install -y redis-server}).
 * Run: {@code java -jar mixer-core/benchmarks/target/benchmarks.jar RedisQuotaBenchmark}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
@Threads(8)
@State(Scope.Benchmark)
public class RedisQuotaBenchmark {

  static final String TRIVIAL = "return 1";

  Process redis;
  JedisPooled raw;
  String trivialSha;
  String fixedSha;
  QuotaAsyncHandler quota;
  Handler handler;
  QuotaInstance instance;
  final AtomicLong ids = new AtomicLong();

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path dir = Files.createTempDirectory("redis-bench");
    redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
    GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
    pool.setMaxTotal(8);
    pool.setMaxIdle(8);
    raw = new JedisPooled(new HostAndPort("127.0.0.1", port), DefaultJedisClientConfig.builder().build(), pool);
    for (int i = 0; ; i++) {
      try {
        raw.ping();
        break;
      } catch (RuntimeException e) {
        if (i > 200) {
          throw new IOException("redis-server did not start", e);
        }
        Thread.sleep(25);
      }
    }
    trivialSha = raw.scriptLoad(TRIVIAL);
    try (var in = RedisQuotaBenchmark.class.getResourceAsStream("/io/istio4j/adapters/redisquota/fixed_window.lua")) {
      fixedSha = raw.scriptLoad(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    handler = Adapters.build("redisquota", Map.of("redisServerUrl", "127.0.0.1:" + port, "connectionPoolSize", 8,
        "quotas", List.of(Map.of("name", "requestcount.quota.istio-system", "maxAmount", 1L << 52,
            "validDuration", "10s"))),
        "quota", Map.of("requestcount.quota.istio-system", new QuotaType(Map.of())));
    quota = (QuotaAsyncHandler) handler;
    instance = new QuotaInstance("requestcount.quota.istio-system",
        Map.of("source", "reviews.default.svc.cluster.local", "destination", "ratings.default.svc.cluster.local"));
    if (allocate(new QuotaArgs("check", 1, false)).amount() != 1) {
      throw new IllegalStateException("redisquota does not grant");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    handler.close();
    raw.close();
    redis.destroyForcibly();
    redis.waitFor(10, TimeUnit.SECONDS);
  }

  @Benchmark
  public Object baselineRawEvalsha() {
    return raw.evalsha(trivialSha, List.of("k"), List.of("1"));
  }

  /** The adapter's fixed-window script called directly: what Redis itself spends on an allocation. */
  @Benchmark
  public Object rawFixedWindowScript() {
    long id = ids.incrementAndGet();
    return raw.evalsha(fixedSha, List.of("istio4j:quota:{bench}:f", "istio4j:quota:{bench}:d:" + id),
        List.of("4503599627370496", "1", "0", "10000", "20000", "1"));
  }

  /** An allocation without a deduplication id (clients that do not retry). */
  @Benchmark
  public QuotaResult redisquotaAllocationWithoutDedup() {
    return allocate(NO_DEDUP);
  }

  static final QuotaArgs NO_DEDUP = new QuotaArgs("", 1, false);

  @Benchmark
  public QuotaResult redisquotaAllocation() {
    return allocate(new QuotaArgs("req-" + ids.incrementAndGet() + "RequestCount", 1, false));
  }

  /** One allocation, waited for (the handler pipelines what the benchmark threads send together). */
  private QuotaResult allocate(QuotaArgs args) {
    return quota.handleQuotaAsync(instance, args).toCompletableFuture().join();
  }
}
