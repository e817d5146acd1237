package io.istio4j.adapters.redisquota;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaConfigValidation;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.redisquota.config.Params;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaInstance;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.slf4j.Logger;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Allocates quota in Redis: one EVALSHA of a Lua script per allocation (NOSCRIPT reloads the
 * script and retries), so concurrent Mixers never grant more than a window's limit. While Redis
 * cannot be reached, allocations are answered by the failure policy without waiting on Redis again
 * until the retry interval has passed.
 */
final class RedisQuotaHandler implements QuotaHandler {

  static final String FIXED_SCRIPT = script("fixed_window.lua");
  static final String ROLLING_SCRIPT = script("rolling_window.lua");
  static final String FIXED_SHA = sha1(FIXED_SCRIPT);
  static final String ROLLING_SHA = sha1(ROLLING_SCRIPT);
  private static final long WARN_EVERY_NANOS = 10_000_000_000L;

  private final JedisPooled redis;
  private final RedisAddress address;
  private final Map<String, Limits> quotas = new HashMap<>();
  private final Params.FailurePolicy failurePolicy;
  private final Duration failureValid;
  private final long retryNanos;
  private final Logger log;
  private final Env env;
  // redisquota_failures by reason, resolved once: every answer by the failure policy counts.
  private final Counter.Child unreachable;
  private final Counter.Child refused;
  private final Counter.Child redisError;
  private volatile Counter.Child downReason;
  private volatile boolean errorReported;
  private volatile long downUntil;
  private volatile long lastWarning;

  /** A quota's limits, with its Redis key prefix and script. */
  private record Limits(String name, long maxAmount, long windowMillis, long bucketMillis, boolean rolling,
      Duration validDuration, Override[] overrides) {}

  /** An override; {@code values} are Go texts, compared with the Go text of the request's values. */
  private record Override(String[] keys, String[] values, long maxAmount) {
    boolean matches(Map<String, Object> dims) {
      for (int i = 0; i < keys.length; i++) {
        Object v = dims.get(keys[i]);
        if (v == null || !values[i].equals(GoValues.format(v))) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code dimensionTypes}: quota instance name to its dimensions' types, to read override values. */
  RedisQuotaHandler(Params params, RedisAddress address, Env env, Map<String, Map<String, ValueType>> dimensionTypes) {
    this.address = address;
    this.log = env.logger();
    this.env = env;
    this.failurePolicy = params.getFailurePolicy();
    this.failureValid = duration(params.getFailureValidDuration());
    this.retryNanos = duration(params.getRetryInterval()).toNanos();
    Counter failures = env.metrics().counter("redisquota_failures",
        "redisquota allocations answered by the failure policy, by reason: unreachable (Redis could not be "
            + "reached, or the handler waits out retryInterval after that), auth (Redis refused the credentials), "
            + "error (Redis answered another error)", "redis", "reason");
    this.unreachable = failures.labelValues(address.toString(), "unreachable");
    this.refused = failures.labelValues(address.toString(), "auth");
    this.redisError = failures.labelValues(address.toString(), "error");
    this.downReason = unreachable;
    for (Params.Quota q : params.getQuotasList()) {
      Map<String, ValueType> types = dimensionTypes.getOrDefault(q.getName(), Map.of());
      Override[] overrides = new Override[q.getOverridesCount()];
      for (int i = 0; i < overrides.length; i++) {
        Params.Override o = q.getOverrides(i);
        String[] keys = o.getDimensionsMap().keySet().stream().sorted().toArray(String[]::new);
        String[] values = Arrays.stream(keys).map(k -> overrideText(types.get(k), o.getDimensionsMap().get(k)))
            .toArray(String[]::new);
        overrides[i] = new Override(keys, values, o.getMaxAmount());
      }
      Duration window = duration(q.getValidDuration());
      quotas.put(q.getName(), new Limits(q.getName(), q.getMaxAmount(), window.toMillis(),
          duration(q.getBucketDuration()).toMillis(), q.getRateLimitAlgorithm() == Params.QuotaAlgorithm.ROLLING_WINDOW,
          window, overrides));
    }
    DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis((int) duration(params.getConnectTimeout()).toMillis())
        .socketTimeoutMillis((int) duration(params.getCommandTimeout()).toMillis())
        .database(address.database())
        .ssl(address.tls() || params.getTls())
        .clientName("istio4j-mixer");
    String user = params.getUsername().isEmpty() ? address.user() : params.getUsername();
    String password = params.getPassword().isEmpty() ? address.password() : params.getPassword();
    if (!user.isEmpty()) {
      client.user(user);
    }
    if (!password.isEmpty()) {
      client.password(password);
    }
    GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
    int size = params.getConnectionPoolSize() == 0 ? 10 : (int) Math.min(1024, params.getConnectionPoolSize());
    pool.setMaxTotal(size);
    pool.setMaxIdle(size);
    pool.setMaxWait(duration(params.getConnectTimeout()));
    pool.setJmxEnabled(false);
    this.redis = new JedisPooled(new HostAndPort(address.host(), address.port()), client.build(), pool);
    try {
      redis.scriptLoad(FIXED_SCRIPT);
      redis.scriptLoad(ROLLING_SCRIPT);
      log.info("redisquota connected to {}", address);
    } catch (JedisException e) {
      if (isAuthFailure(e)) {
        authFailed(e);
        return;
      }
      // Not fatal: allocations follow the failure policy until Redis answers, then load the scripts.
      log.warn("redisquota cannot reach {} yet ({}); answering by the failure policy ({}) until it can",
          address, LogText.escape(e.getMessage()), failurePolicy);
    }
  }

  @java.lang.Override
  public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
    Limits l = quotas.get(instance.name());
    if (l == null) {
      return new QuotaResult(Status.of(Status.Code.INTERNAL, "redisquota has no quota named " + instance.name()),
          Duration.ZERO, 0);
    }
    long now = System.nanoTime();
    if (now - downUntil < 0) {
      downReason.inc();
      return failurePolicy(args);
    }
    long max = l.maxAmount();
    for (Override o : l.overrides()) {
      if (o.matches(instance.dimensions())) {
        max = o.maxAmount();
        break;
      }
    }
    // Asking for more than max + 1 is answered as max + 1 would be (denied, or max - used with best
    // effort), and keeps the scripts' arithmetic exact: Lua counts in doubles.
    String amount = Long.toString(Math.min(args.amount(), max + 1));
    String cell = cellKey(l.name(), instance.dimensions());
    boolean dedup = !args.deduplicationId().isEmpty();
    String dedupKey = cell + ":d:" + args.deduplicationId();
    long dedupTtl = Math.max(1000, 2 * l.windowMillis());
    try {
      long granted;
      long remaining;
      if (l.rolling()) {
        List<?> r = (List<?>) evalsha(ROLLING_SHA, ROLLING_SCRIPT, List.of(cell + ":z", cell + ":h", dedupKey),
            List.of(Long.toString(max), amount, args.bestEffort() ? "1" : "0",
                Long.toString(l.windowMillis()), Long.toString(l.bucketMillis()), Long.toString(dedupTtl),
                dedup ? "1" : "0"));
        granted = (Long) r.get(0);
        remaining = (Long) r.get(1);
      } else {
        Object r = evalsha(FIXED_SHA, FIXED_SCRIPT, List.of(cell + ":f", dedupKey),
            List.of(Long.toString(max), amount, args.bestEffort() ? "1" : "0",
                Long.toString(l.windowMillis()), Long.toString(dedupTtl), dedup ? "1" : "0"));
        if (r instanceof Long ttl) { // the whole amount, the common reply (see fixed_window.lua)
          granted = args.amount();
          remaining = ttl;
        } else {
          List<?> list = (List<?>) r;
          granted = (Long) list.get(0);
          remaining = (Long) list.get(1);
        }
      }
      if (errorReported) { // Redis takes our credentials again
        errorReported = false;
        env.clearError();
      }
      Duration valid = !l.rolling() && remaining > 0 && remaining < l.windowMillis()
          ? Duration.ofMillis(remaining) : l.validDuration();
      return QuotaResult.granted(granted, valid);
    } catch (JedisConnectionException e) {
      if (isAuthFailure(e)) {
        return authFailed(e, args);
      }
      downReason = unreachable;
      downUntil = System.nanoTime() + retryNanos;
      clearIdleConnections(); // after a restart every pooled connection is dead: start afresh
      unreachable.inc();
      warn(e);
      return failurePolicy(args);
    } catch (JedisException e) {
      if (isAuthFailure(e)) {
        return authFailed(e, args);
      }
      redisError.inc();
      warn(e);
      return failurePolicy(args);
    }
  }

  private Object evalsha(String sha, String script, List<String> keys, List<String> args) {
    try {
      return redis.evalsha(sha, keys, args);
    } catch (JedisNoScriptException e) { // Redis restarted or flushed its scripts: load and go on
      redis.scriptLoad(script);
      return redis.evalsha(sha, keys, args);
    }
  }

  /**
   * Redis refused the credentials (WRONGPASS, NOAUTH, NOPERM): not an outage but a config problem,
   * so the handler reports it (a {@code handlerError} on /debug/config) and, like an outage, stops
   * asking Redis for the retry interval: each try costs a connection.
   */
  private QuotaResult authFailed(JedisException e, QuotaArgs args) {
    downReason = refused;
    downUntil = System.nanoTime() + retryNanos;
    refused.inc();
    authFailed(e);
    return failurePolicy(args);
  }

  private void authFailed(JedisException e) {
    errorReported = true;
    env.reportError("Redis at " + address + " refused the credentials: " + e.getMessage()
        + " (check the password and username of redisServerUrl, or of the password and username fields)");
    warn(e);
  }

  static boolean isAuthFailure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof JedisAccessControlException) {
        return true;
      }
      String m = t.getMessage();
      if (m != null && (m.startsWith("NOAUTH") || m.startsWith("WRONGPASS") || m.startsWith("NOPERM"))) {
        return true;
      }
    }
    return false;
  }

  private void clearIdleConnections() {
    try {
      redis.getPool().clear();
    } catch (RuntimeException ignored) {
      // best effort: a dead connection is also dropped when it fails
    }
  }

  private QuotaResult failurePolicy(QuotaArgs args) {
    return failurePolicy == Params.FailurePolicy.DENY
        ? new QuotaResult(Status.OK, failureValid, 0)
        : QuotaResult.granted(Math.max(0, args.amount()), failureValid);
  }

  private void warn(JedisException e) {
    long now = System.nanoTime();
    if (now - lastWarning > WARN_EVERY_NANOS) {
      lastWarning = now;
      log.warn("redisquota: {} failed ({}); answering by the failure policy ({}) for {} ms", address,
          LogText.escape(e.getMessage()), failurePolicy, retryNanos / 1_000_000); // a reply may quote keys
    }
  }

  /** An override value as the Go text it names (see QuotaConfigValidation#overrideText). */
  private static String overrideText(ValueType type, String value) {
    String text = type == null ? value : QuotaConfigValidation.overrideText(type, value);
    return text == null ? value : text;
  }

  /**
   * The Redis key of a cell: the quota name and its dimension values (their Go text, so an address
   * is {@code 10.0.0.1}) sorted by name, in a hash tag so that a cell's keys share one Redis Cluster
   * slot.
   */
  static String cellKey(String quota, Map<String, Object> dims) {
    String[] names = dims.keySet().toArray(new String[0]);
    Arrays.sort(names);
    StringBuilder b = new StringBuilder(64).append("istio4j:quota:{").append(quota);
    for (String n : names) {
      b.append(';').append(n).append('=').append(GoValues.format(dims.get(n)));
    }
    return b.append('}').toString();
  }

  @java.lang.Override
  public void close() {
    redis.close();
  }

  private static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  private static String script(String name) {
    try (InputStream in = RedisQuotaHandler.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
