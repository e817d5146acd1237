package io.istio4j.adapters.redisquota;

import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaConfigValidation;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.adapter.Span;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.redisquota.config.Params;
import io.istio4j.template.quota.QuotaAsyncHandler;
import io.istio4j.template.quota.QuotaInstance;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import redis.clients.jedis.CommandObjects;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisAccessControlException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * Allocates quota in Redis without making the caller wait: one EVALSHA of a Lua script per
 * allocation, so concurrent Mixers never grant more than a window's limit, sent with the other
 * allocations that arrive at the same time as one pipeline (implicit pipelining, as
 * envoyproxy/ratelimit does). A few sender threads, each owning one connection, take what is queued
 * (up to {@code pipelineLimit}, after waiting {@code pipelineWindow} for more), send it, and complete
 * the callers' futures; no thread waits per call. NOSCRIPT reloads the scripts and retries.
 *
 * <p>The constructor does no network I/O (it runs under Mixer's config lock): the senders connect
 * and load the scripts. While Redis cannot be reached, and for the retry interval after a failure,
 * allocations are answered at once by the failure policy without being queued; so is an
 * allocation that finds the queue full.
 */
final class RedisQuotaHandler implements QuotaAsyncHandler {

  static final String FIXED_SCRIPT = script("fixed_window.lua");
  static final String ROLLING_SCRIPT = script("rolling_window.lua");
  static final String FIXED_SHA = sha1(FIXED_SCRIPT);
  static final String ROLLING_SHA = sha1(ROLLING_SCRIPT);
  /** Most senders (connections): one pipelining connection nearly saturates Redis's one thread. */
  static final int MAX_SENDERS = 4;
  static final int DEFAULT_PIPELINE_LIMIT = 64;
  static final int DEFAULT_QUEUE_SIZE = 4096;
  private static final long WARN_EVERY_NANOS = 10_000_000_000L;

  private final RedisAddress address;
  private final HostAndPort hostAndPort;
  private final JedisClientConfig clientConfig;
  private final Map<String, Limits> quotas = new HashMap<>();
  private final Params.FailurePolicy failurePolicy;
  private final Duration failureValid;
  private final long retryNanos;
  private final int pipelineLimit;
  private final long pipelineWindowNanos;
  private final BlockingQueue<Allocation> queue;
  private final List<Future<?>> senders = new ArrayList<>();
  private final Logger log;
  private final RateLimitedLogger overloadWarnings;
  private final Env env;
  // redisquota_failures by reason, resolved once: every answer by the failure policy counts.
  private final Counter.Child unreachable;
  private final Counter.Child refused;
  private final Counter.Child redisError;
  private final Counter.Child overloaded;
  private final Counter.Child pipelinesSent;
  private final Counter.Child allocationsSent;
  /** Bumped on every failure: connections opened before it may be dead, so senders reopen theirs. */
  private final AtomicInteger epoch = new AtomicInteger();
  private final AtomicBoolean reachable = new AtomicBoolean();
  private volatile Counter.Child downReason;
  private volatile long downUntil;
  private volatile boolean errorReported;
  private volatile boolean closed;
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

  /**
   * One allocation on its way to Redis: the script's keys and arguments, built on the caller's
   * thread, and the future the caller holds. A cancelled allocation (the call's deadline passed) is
   * not sent; one cancelled in flight is answered into the void.
   */
  static final class Allocation extends CompletableFuture<QuotaResult> {
    final Limits limits;
    final String[] params; // KEYS, then ARGV
    final long amount; // as asked

    Allocation(Limits limits, String[] params, long amount) {
      this.limits = limits;
      this.params = params;
      this.amount = amount;
    }
  }

  /** {@code dimensionTypes}: quota instance name to its dimensions' types, to read override values. */
  RedisQuotaHandler(Params params, RedisAddress address, Env env, Map<String, Map<String, ValueType>> dimensionTypes) {
    this.address = address;
    this.log = env.logger();
    this.overloadWarnings = RateLimitedLogger.of(log);
    this.env = env;
    this.failurePolicy = params.getFailurePolicy();
    this.failureValid = duration(params.getFailureValidDuration());
    this.retryNanos = duration(params.getRetryInterval()).toNanos();
    this.pipelineLimit = params.getPipelineLimit() == 0 ? DEFAULT_PIPELINE_LIMIT : (int) params.getPipelineLimit();
    this.pipelineWindowNanos = duration(params.getPipelineWindow()).toNanos();
    this.queue = new ArrayBlockingQueue<>(params.getQueueSize() == 0 ? DEFAULT_QUEUE_SIZE : (int) params.getQueueSize());
    Counter failures = env.metrics().counter("redisquota_failures",
        "redisquota allocations answered by the failure policy, by reason: unreachable (Redis could not be "
            + "reached, or the handler waits out retryInterval after that, or it was closed), auth (Redis refused "
            + "the credentials), error (Redis answered another error), overloaded (queueSize allocations were "
            + "already waiting to be sent)", "redis", "reason");
    this.unreachable = failures.labelValues(address.toString(), "unreachable");
    this.refused = failures.labelValues(address.toString(), "auth");
    this.redisError = failures.labelValues(address.toString(), "error");
    this.overloaded = failures.labelValues(address.toString(), "overloaded");
    this.pipelinesSent = env.metrics().counter("redisquota_pipelines",
        "Pipelines sent to Redis; redisquota_pipelined_allocations_total divided by this is the mean pipeline size",
        "redis").labelValues(address.toString());
    this.allocationsSent = env.metrics().counter("redisquota_pipelined_allocations",
        "Allocations sent to Redis in pipelines (NOSCRIPT retries count again)", "redis").labelValues(address.toString());
    this.downReason = unreachable;
    this.downUntil = System.nanoTime(); // up: nanoTime may be negative, so 0 would not do
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
    this.clientConfig = client.build();
    this.hostAndPort = new HostAndPort(address.host(), address.port());
    long connections = Math.min(MAX_SENDERS, params.getConnectionPoolSize() == 0 ? 10 : params.getConnectionPoolSize());
    for (int i = 0; i < connections; i++) {
      senders.add(env.scheduleDaemon(new Sender()));
    }
  }

  @java.lang.Override
  public CompletionStage<QuotaResult> handleQuotaAsync(QuotaInstance instance, QuotaArgs args) {
    Limits l = quotas.get(instance.name());
    if (l == null) {
      return CompletableFuture.completedFuture(new QuotaResult(
          Status.of(Status.Code.INTERNAL, "redisquota has no quota named " + instance.name()), Duration.ZERO, 0));
    }
    if (closed) {
      unreachable.inc();
      return CompletableFuture.completedFuture(failurePolicy(args.amount()));
    }
    if (System.nanoTime() - downUntil < 0) {
      downReason.inc();
      return CompletableFuture.completedFuture(failurePolicy(args.amount()));
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
    String dedup = args.deduplicationId().isEmpty() ? "0" : "1"; // an empty id never deduplicates
    String dedupKey = cell + ":d:" + args.deduplicationId();
    String dedupTtl = Long.toString(Math.max(1000, 2 * l.windowMillis()));
    String bestEffort = args.bestEffort() ? "1" : "0";
    String[] params = l.rolling()
        ? new String[] {cell + ":z", cell + ":h", dedupKey, Long.toString(max), amount, bestEffort,
            Long.toString(l.windowMillis()), Long.toString(l.bucketMillis()), dedupTtl, dedup}
        : new String[] {cell + ":f", dedupKey, Long.toString(max), amount, bestEffort,
            Long.toString(l.windowMillis()), dedupTtl, dedup};
    Allocation a = new Allocation(l, params, args.amount());
    if (!queue.offer(a)) {
      overloaded.inc();
      overloadWarnings.warn("redisquota: {} allocations are waiting for {}; answering by the failure policy ({})",
          queue.size(), address, failurePolicy);
      return CompletableFuture.completedFuture(failurePolicy(args.amount()));
    }
    traceRedisCall(a);
    if (closed) {
      failQueued(); // close() may have emptied the queue before this allocation joined it
    }
    return a;
  }

  /**
   * A child of the handler's span (when the request is traced) covering the allocation's trip to
   * Redis: queued, pipelined, answered. Read on the caller's thread, where Mixer set the span.
   */
  private void traceRedisCall(Allocation a) {
    Span parent = env.currentSpan();
    if (!parent.isRecording()) {
      return;
    }
    Span redis = parent.child("redis evalsha").tag("redis.address", address.toString())
        .tag("redisquota.quota", a.limits.name()).tag("redisquota.amount", Long.toString(a.amount));
    a.whenComplete((r, e) -> {
      if (e != null) {
        redis.error(e);
      } else {
        redis.tag("redisquota.granted", Long.toString(r.amount()));
        if (!r.status().isOk()) {
          redis.tag("redisquota.status", r.status().code().name());
        }
      }
      redis.finish();
    });
  }

  /**
   * Takes what is queued, sends it to Redis as one pipeline over its own connection, and completes
   * the allocations; one per thread. Connects at start (so the first calls do not wait for it),
   * then again only when an allocation needs it and the retry interval has passed.
   */
  private final class Sender implements Runnable {
    private final CommandObjects commands = new CommandObjects();
    private final List<Allocation> batch = new ArrayList<>(pipelineLimit);
    private final List<Response<Object>> replies = new ArrayList<>(pipelineLimit);
    private Connection connection;
    private Pipeline pipeline;
    private int connectionEpoch;

    @java.lang.Override
    public void run() {
      try {
        connect();
        while (!closed) {
          take();
          try {
            send();
          } catch (RuntimeException e) { // a bug: never lose the sender
            disconnect();
            log.error("redisquota: sending to {} failed", address, e);
          } finally {
            fail(batch, redisError); // whatever is left unanswered
            batch.clear();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt(); // close(): answer what this sender holds, and stop
      } finally {
        fail(batch, unreachable);
        batch.clear();
        disconnect();
      }
    }

    /** Waits for one allocation, then takes what else is queued (after the pipeline window). */
    private void take() throws InterruptedException {
      batch.add(queue.take());
      if (pipelineWindowNanos > 0) {
        long end = System.nanoTime() + pipelineWindowNanos;
        while (batch.size() < pipelineLimit) {
          long left = end - System.nanoTime();
          Allocation a = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : null;
          if (a == null) {
            break;
          }
          batch.add(a);
        }
      }
      queue.drainTo(batch, pipelineLimit - batch.size());
    }

    private void send() {
      batch.removeIf(CompletableFuture::isDone); // the callers' deadlines passed while they were queued
      if (batch.isEmpty()) {
        return;
      }
      if (System.nanoTime() - downUntil < 0) { // another sender found Redis gone meanwhile
        fail(batch, downReason);
        return;
      }
      if (connection != null && connectionEpoch != epoch.get()) {
        disconnect();
      }
      if (connection == null && !connect()) {
        fail(batch, downReason);
        return;
      }
      List<Allocation> noScript = pipeline(batch, false);
      if (noScript != null && connection != null) { // Redis restarted or flushed its scripts: load and go on
        List<Allocation> again = pipeline(noScript, true);
        if (again != null) {
          fail(again, redisError);
        }
      }
    }

    /**
     * Sends {@code items} as one pipeline (after loading the scripts, if asked) and answers them;
     * returns those for which Redis did not know the script, or null.
     */
    private List<Allocation> pipeline(List<Allocation> items, boolean loadScripts) {
      if (loadScripts) {
        pipeline.appendCommand(commands.scriptLoad(FIXED_SCRIPT));
        pipeline.appendCommand(commands.scriptLoad(ROLLING_SCRIPT));
      }
      replies.clear();
      for (Allocation a : items) {
        replies.add(pipeline.appendCommand(a.limits.rolling()
            ? commands.evalsha(ROLLING_SHA, 3, a.params) : commands.evalsha(FIXED_SHA, 2, a.params)));
      }
      pipelinesSent.inc();
      allocationsSent.inc(items.size());
      try {
        pipeline.sync();
      } catch (RuntimeException e) { // the connection broke or timed out: this pipeline's replies are lost
        disconnect();
        failure(e);
        fail(items, downReason);
        return null;
      }
      List<Allocation> noScript = null;
      for (int i = 0; i < items.size(); i++) {
        Allocation a = items.get(i);
        Object reply;
        try {
          reply = replies.get(i).get();
        } catch (JedisNoScriptException e) {
          noScript = noScript == null ? new ArrayList<>() : noScript;
          noScript.add(a);
          continue;
        } catch (JedisDataException e) {
          if (isAuthFailure(e)) { // e.g. NOPERM: an ACL changed under a live connection
            authFailed(e);
            answer(a, refused);
          } else {
            warn(e);
            answer(a, redisError);
          }
          continue;
        }
        try {
          answer(a, reply);
        } catch (RuntimeException e) { // not what the script returns: answered by the policy, the rest go on
          warn(e);
          answer(a, redisError);
        }
      }
      replies.clear();
      return noScript;
    }

    /** Opens the connection and loads the scripts; on failure, marks Redis down. */
    private boolean connect() {
      int opened = epoch.get(); // read first: a failure seen meanwhile makes this connection suspect
      Connection c = null;
      try {
        c = new Connection(hostAndPort, clientConfig);
        Pipeline p = new Pipeline(c);
        Response<String> fixed = p.appendCommand(commands.scriptLoad(FIXED_SCRIPT));
        Response<String> rolling = p.appendCommand(commands.scriptLoad(ROLLING_SCRIPT));
        p.sync();
        fixed.get(); // throws what Redis answered, e.g. NOAUTH
        rolling.get();
        connection = c;
        pipeline = p;
        connectionEpoch = opened;
      } catch (RuntimeException e) {
        closeQuietly(c);
        failure(e);
        return false;
      }
      if (errorReported) { // Redis takes our credentials (or the host resolves) again
        errorReported = false;
        env.clearError();
      }
      if (reachable.compareAndSet(false, true)) {
        log.info("redisquota connected to {}", address);
      }
      return true;
    }

    private void disconnect() {
      closeQuietly(connection);
      connection = null;
      pipeline = null;
    }
  }

  /** Records a failure to connect or to send: Redis is down (or refuses us) for the retry interval. */
  private void failure(RuntimeException e) {
    if (isAuthFailure(e)) {
      authFailed(e);
      return;
    }
    if (causedBy(e, UnknownHostException.class)) { // the name may resolve later; the operator should know now
      errorReported = true;
      env.reportError("the host of Redis at " + address + " is unknown (DNS lookup failed)");
    }
    markDown(unreachable);
    reachable.set(false);
    warn(e);
  }

  /**
   * Redis refused the credentials (WRONGPASS, NOAUTH, NOPERM): not an outage but a config problem,
   * so the handler reports it (a {@code handlerError} on /debug/config) and, like an outage, stops
   * asking Redis for the retry interval: each try costs a connection.
   */
  private void authFailed(RuntimeException e) {
    errorReported = true;
    env.reportError("Redis at " + address + " refused the credentials: " + e.getMessage()
        + " (check the password and username of redisServerUrl, or of the password and username fields)");
    markDown(refused);
    warn(e);
  }

  private void markDown(Counter.Child reason) {
    downReason = reason; // before downUntil: a caller that sees the new deadline counts the right reason
    downUntil = System.nanoTime() + retryNanos;
    epoch.incrementAndGet();
  }

  /** Answers an allocation from the script's reply. */
  private void answer(Allocation a, Object reply) {
    long granted;
    long remaining;
    if (a.limits.rolling()) {
      List<?> r = (List<?>) reply;
      granted = (Long) r.get(0);
      remaining = (Long) r.get(1);
    } else if (reply instanceof Long ttl) { // the whole amount, the common reply (see fixed_window.lua)
      granted = a.amount;
      remaining = ttl;
    } else {
      List<?> list = (List<?>) reply;
      granted = (Long) list.get(0);
      remaining = (Long) list.get(1);
    }
    Limits l = a.limits;
    Duration valid = !l.rolling() && remaining > 0 && remaining < l.windowMillis()
        ? Duration.ofMillis(remaining) : l.validDuration();
    a.complete(QuotaResult.granted(granted, valid));
  }

  /** Answers an allocation by the failure policy, counted under {@code reason}. */
  private void answer(Allocation a, Counter.Child reason) {
    if (!a.isDone()) { // counted first: the caller may read the metric as soon as it has its answer
      reason.inc();
      a.complete(failurePolicy(a.amount));
    }
  }

  private void fail(List<Allocation> items, Counter.Child reason) {
    for (Allocation a : items) {
      answer(a, reason);
    }
  }

  private void failQueued() {
    for (Allocation a = queue.poll(); a != null; a = queue.poll()) {
      answer(a, unreachable);
    }
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

  private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (RuntimeException ignored) {
        // closing a broken connection: nothing to save
      }
    }
  }

  private QuotaResult failurePolicy(long amount) {
    return failurePolicy == Params.FailurePolicy.DENY
        ? new QuotaResult(Status.OK, failureValid, 0)
        : QuotaResult.granted(Math.max(0, amount), failureValid);
  }

  private void warn(RuntimeException e) {
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

  /**
   * Stops the senders (each closes its connection once its pipeline in flight, if any, is answered
   * or times out) and answers what is still queued by the failure policy. Does not wait.
   */
  @java.lang.Override
  public void close() {
    closed = true;
    for (Future<?> s : senders) {
      s.cancel(true);
    }
    failQueued();
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
