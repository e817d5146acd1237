package io.istio4j.mixerclient;

import static java.util.Objects.requireNonNull;

import io.grpc.Channel;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.istio4j.mixer.attribute.GlobalDictionary;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import io.istio4j.mixer.v1.ReportRequest;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Mixer client for Java services: what Envoy's mixer filter does for a sidecar, as a library.
 *
 * <ul>
 *   <li>{@link #check} asks Mixer whether a request may proceed. Answers are cached keyed on the
 *       attributes Mixer said it looked at (its ReferencedAttributes), for as long and as many uses
 *       as Mixer allowed; a quota is then served from a local pool that is refilled in the
 *       background (prefetch). Mixer unreachable: retried with backoff within the deadline, then the
 *       {@link FailPolicy} decides.
 *   <li>{@link #report} queues telemetry; records are sent in delta-encoded batches by a background
 *       thread and dropped (counted) when Mixer is too slow to take them.
 *   <li>The caller's current Brave span, if any, travels as B3 metadata on Check, so Mixer's span
 *       joins the caller's trace.
 * </ul>
 *
 * <pre>{@code
 * MixerClient mixer = MixerClient.builder()
 *     .target("istio-mixer.istio-system:9091")
 *     .failPolicy(FailPolicy.OPEN)
 *     .build();
 * CheckResult r = mixer.check(attrs, "RequestCount", 1);
 * if (r.allowed()) {
 *   serve();
 *   mixer.report(attrs.toBuilder().put("response.code", 200L).build());
 * }
 * mixer.close();   // flushes queued reports
 * }</pre>
 *
 * <p>Thread-safe; build one per process and share it. {@link #check} blocks the calling thread for a
 * cache miss (at most the check deadline); a hit answers in well under a microsecond.
 */
public final class MixerClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MixerClient.class);

  /** The message prefix of a server's INVALID_ARGUMENT for indexes it cannot decode (spec §1.4). */
  static final String INVALID_INDEX_PREFIX = "Request could not be processed due to invalid";

  private final MixerTransport transport;
  private final Ticker ticker;
  private final FailPolicy failPolicy;
  private final long checkTimeoutNanos;
  private final long reportTimeoutNanos;
  private final int maxAttempts;
  private final long initialBackoffNanos;
  private final long maxBackoffNanos;
  private final boolean propagateB3;
  private final long closeTimeoutNanos;
  private final AtomicInteger globalWordCount;
  private final @Nullable CheckCache cache;
  private final @Nullable QuotaCache quotas;
  private final ReportBatcher reports;
  private final Executor refillExecutor;
  private final @Nullable ExecutorService ownedRefillExecutor;
  private final String dedupBase = UUID.randomUUID().toString();
  private final AtomicLong dedupCounter = new AtomicLong();

  private final LongAdder checks = new LongAdder();
  private final LongAdder hits = new LongAdder();
  private final LongAdder remote = new LongAdder();
  private final LongAdder uncacheable = new LongAdder();
  private final LongAdder failedOpen = new LongAdder();
  private final LongAdder failedClosed = new LongAdder();

  private MixerClient(Builder b, MixerTransport transport) {
    this.transport = transport;
    this.ticker = b.ticker;
    this.failPolicy = b.failPolicy;
    this.checkTimeoutNanos = b.checkTimeout.toNanos();
    this.reportTimeoutNanos = b.reportTimeout.toNanos();
    this.maxAttempts = b.maxAttempts;
    this.initialBackoffNanos = b.initialBackoff.toNanos();
    this.maxBackoffNanos = b.maxBackoff.toNanos();
    this.propagateB3 = b.propagateB3;
    this.closeTimeoutNanos = b.closeTimeout.toNanos();
    this.globalWordCount = new AtomicInteger(b.globalWordCount);
    this.cache = b.checkCache ? new CheckCache(b.checkCacheMaxEntries, b.maxShapes) : null;
    if (b.refillExecutor != null) {
      this.refillExecutor = b.refillExecutor;
      this.ownedRefillExecutor = null;
    } else {
      // Refills block on a Check call: their own two daemon threads, a bounded queue (a refill that
      // does not fit is skipped and retried by a later request), never the common pool.
      ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256),
          r -> {
            Thread t = new Thread(r, "mixer-client-quota-refill");
            t.setDaemon(true);
            return t;
          });
      pool.allowCoreThreadTimeOut(true);
      this.refillExecutor = pool;
      this.ownedRefillExecutor = pool;
    }
    Calls calls = new Calls();
    this.quotas = b.checkCache && b.quotaPrefetch
        ? new QuotaCache(calls, b.prefetch, b.checkCacheMaxEntries, b.maxShapes, ticker) : null;
    this.reports = new ReportBatcher(calls, b.reportMaxEntries, b.reportMaxDelay.toNanos(), b.reportQueueCapacity);
  }

  /** A builder with mixerclient's defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Checks {@code attrs} without quota. */
  public CheckResult check(Attributes attrs) {
    return check(attrs, null, 0);
  }

  /**
   * Checks {@code attrs} and, when {@code quotaName} is non-null and the precondition holds,
   * allocates {@code amount} of that quota. A quota Mixer grants short of the amount answers
   * RESOURCE_EXHAUSTED ({@code "Quota is exhausted for: <name>"}).
   */
  public CheckResult check(Attributes attrs, @Nullable String quotaName, long amount) {
    requireNonNull(attrs, "attrs");
    if (quotaName != null && amount < 1) {
      throw new IllegalArgumentException("amount: " + amount + " (expected: >= 1 for quota " + quotaName + ")");
    }
    checks.increment();
    if (cache != null) {
      CheckCache.Entry hit = cache.lookup(attrs, ticker.nanos());
      if (hit != null) {
        hits.increment();
        if (hit.code != 0) {
          return new CheckResult(hit.code, hit.message, CheckResult.Source.CACHE);
        }
        if (quotaName == null) {
          return CheckResult.ok(CheckResult.Source.CACHE);
        }
        if (quotas != null) {
          return quotas.allocate(attrs, quotaName, amount);
        }
      }
    }
    return remoteCheck(attrs, quotaName, amount);
  }

  private CheckResult remoteCheck(Attributes attrs, @Nullable String quotaName, long amount) {
    Answer a = calls().check(attrs, quotaName, amount, false);
    if (a.failure != null) {
      return failed(a.failure);
    }
    PreconditionResult p = a.response.getPrecondition();
    if (cache != null && !cache.store(attrs, p, a.sentAt)) {
      uncacheable.increment();
    }
    int code = p.getStatus().getCode();
    if (code != 0) {
      if (code == Status.Code.INTERNAL.value() && failPolicy == FailPolicy.OPEN) {
        failedOpen.increment();
        return new CheckResult(0, p.getStatus().getMessage(), CheckResult.Source.FAIL_OPEN);
      }
      return new CheckResult(code, p.getStatus().getMessage(), CheckResult.Source.MIXER);
    }
    if (quotaName != null) {
      QuotaResult q = a.response.getQuotasMap().get(quotaName);
      // No result for the quota: mixerclient lets the request pass.
      if (q != null && q.getGrantedAmount() < amount) {
        return exhausted(quotaName, CheckResult.Source.MIXER);
      }
    }
    return CheckResult.ok(CheckResult.Source.MIXER);
  }

  static CheckResult exhausted(String quotaName, CheckResult.Source source) {
    return new CheckResult(Status.Code.RESOURCE_EXHAUSTED.value(), "Quota is exhausted for: " + quotaName, source);
  }

  CheckResult failed(Status failure) {
    if (failPolicy == FailPolicy.OPEN) {
      failedOpen.increment();
      return new CheckResult(0, "", CheckResult.Source.FAIL_OPEN);
    }
    failedClosed.increment();
    String why = failure.getCode() + (failure.getDescription() == null ? "" : ": " + failure.getDescription());
    return new CheckResult(Status.Code.UNAVAILABLE.value(), "Mixer unreachable (" + why + ")",
        CheckResult.Source.FAIL_CLOSE);
  }

  /**
   * Queues one telemetry record. Never blocks: false when the record was dropped because the queue
   * is full (Mixer slower than the records arrive) or the client is closed.
   */
  public boolean report(Attributes record) {
    requireNonNull(record, "record");
    return reports.add(record);
  }

  /** The counters since the client was built. */
  public ClientStats stats() {
    QuotaCache q = quotas;
    return new ClientStats(checks.sum(), hits.sum(), remote.sum(), uncacheable.sum(),
        q == null ? 0 : q.poolGrants(), q == null ? 0 : q.poolDenials(), q == null ? 0 : q.fetches(),
        failedOpen.sum(), failedClosed.sum(), reports.queued(), reports.sent(), reports.dropped(),
        reports.batches());
  }

  /** The number of global dictionary words in use (falls to 111 when the server rejects more). */
  public int globalWordCount() {
    return globalWordCount.get();
  }

  /** Sends the queued reports (waiting up to the close timeout), then releases the channel if owned. */
  @Override
  public void close() {
    reports.close(closeTimeoutNanos);
    if (ownedRefillExecutor != null) {
      ownedRefillExecutor.shutdownNow();
    }
    transport.close();
  }

  Calls calls() {
    return new Calls();
  }

  @Nullable CheckCache cache() {
    return cache;
  }

  /** One Check call's outcome: a response, or the status it failed with. */
  static final class Answer {
    final @Nullable CheckResponse response;
    final @Nullable Status failure;
    final long sentAt;

    Answer(@Nullable CheckResponse response, @Nullable Status failure, long sentAt) {
      this.response = response;
      this.failure = failure;
      this.sentAt = sentAt;
    }
  }

  /** The calls to Mixer with retries, deadlines and the dictionary fallback; shared with the parts. */
  final class Calls {

    int globalWordCount() {
      return globalWordCount.get();
    }

    Executor refillExecutor() {
      return refillExecutor;
    }

    CheckResult failed(Status s) {
      return MixerClient.this.failed(s);
    }

    /** A blocking Check with retries within the check deadline. */
    Answer check(Attributes attrs, @Nullable String quotaName, long amount, boolean bestEffort) {
      Map<String, String> headers = propagateB3 ? B3Headers.current() : Map.of();
      String dedup = dedupBase + "-" + dedupCounter.incrementAndGet();
      IntFunction<CheckRequest> build = gwc -> {
        CheckRequest.Builder r = CheckRequest.newBuilder()
            .setAttributes(attrs.encode(gwc))
            .setGlobalWordCount(gwc)
            .setDeduplicationId(dedup);
        if (quotaName != null) {
          r.putQuotas(quotaName, CheckRequest.QuotaParams.newBuilder().setAmount(amount).setBestEffort(bestEffort)
              .build());
        }
        return r.build();
      };
      long sentAt = ticker.nanos();
      Outcome<CheckResponse> o = retrying(checkTimeoutNanos, build, (request, timeout) -> {
        remote.increment();
        return transport.check(request, headers, timeout);
      });
      return new Answer(o.value(), o.failure(), sentAt);
    }

    /** A blocking Report with retries; null on success, else the final failure. */
    @Nullable Status report(ReportRequest request) throws InterruptedException {
      int sentWith = request.getGlobalWordCount();
      Outcome<Void> o = retrying(reportTimeoutNanos,
          gwc -> gwc == sentWith ? request : request.toBuilder().setGlobalWordCount(gwc).build(),
          (r, timeout) -> transport.report(r, timeout));
      if (Thread.currentThread().isInterrupted()) {
        throw new InterruptedException();
      }
      return o.failure();
    }

    /**
     * Calls until success, a non-retryable failure, {@code maxAttempts} or the deadline. Retries
     * UNAVAILABLE (nothing reached Mixer) with exponential backoff and jitter; never DEADLINE_EXCEEDED
     * (Mixer may be working on it, and a retry would only double the wait). On INVALID_ARGUMENT for
     * undecodable indexes, falls back to the 111-word base dictionary, as mixerclient does.
     *
     * @return the response, or the failure
     */
    private <Q, R> Outcome<R> retrying(long budgetNanos, IntFunction<Q> build, Call<Q, R> call) {
      long deadline = System.nanoTime() + budgetNanos;
      long backoff = initialBackoffNanos;
      for (int attempt = 1; ; attempt++) {
        long remaining = deadline - System.nanoTime();
        if (remaining <= 0) {
          return Outcome.failed(Status.DEADLINE_EXCEEDED.withDescription("Mixer did not answer within the deadline"));
        }
        Status failure;
        try {
          CompletableFuture<R> f = call.start(build.apply(globalWordCount.get()), remaining);
          // The call carries the deadline; the extra second only guards against a transport that
          // never completes its future.
          return new Outcome<>(f.get(remaining + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS), null);
        } catch (ExecutionException e) {
          failure = Status.fromThrowable(e.getCause());
        } catch (TimeoutException e) {
          failure = Status.DEADLINE_EXCEEDED.withDescription("Mixer call did not complete");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Outcome.failed(Status.CANCELLED.withDescription("interrupted"));
        } catch (RuntimeException e) {
          failure = Status.fromThrowable(e);
        }
        String description = failure.getDescription();
        if (failure.getCode() == Status.Code.INVALID_ARGUMENT && description != null
            && description.startsWith(INVALID_INDEX_PREFIX)
            && globalWordCount.get() > GlobalDictionary.BASE_SIZE) {
          globalWordCount.set(GlobalDictionary.BASE_SIZE);
          log.warn("mixer-client: Mixer rejected our dictionary indexes; using the first {} global words",
              GlobalDictionary.BASE_SIZE);
          continue;
        }
        if (failure.getCode() != Status.Code.UNAVAILABLE || attempt >= maxAttempts) {
          return Outcome.failed(failure);
        }
        long sleep = Math.min(backoff, maxBackoffNanos);
        sleep = sleep / 2 + ThreadLocalRandom.current().nextLong(sleep / 2 + 1);
        if (deadline - System.nanoTime() <= sleep) {
          return Outcome.failed(failure);
        }
        try {
          TimeUnit.NANOSECONDS.sleep(sleep);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Outcome.failed(Status.CANCELLED.withDescription("interrupted"));
        }
        backoff = Math.min(backoff * 2, maxBackoffNanos);
      }
    }
  }

  /** A call's response (null for Report's empty one) or the status it failed with. */
  private record Outcome<R>(@Nullable R value, @Nullable Status failure) {
    static <R> Outcome<R> failed(Status failure) {
      return new Outcome<>(null, failure);
    }
  }

  @FunctionalInterface
  private interface Call<Q, R> {
    CompletableFuture<R> start(Q request, long timeoutNanos);
  }

  /**
   * Configures a {@link MixerClient}. Defaults are mixerclient's (spec §7.3): fail open, Check cache
   * of 10000 entries, quota prefetch on, reports batched up to 1000 records or 1 s, 5 s per call
   * (Envoy's Mixer timeout).
   */
  public static final class Builder {
    private @Nullable Channel channel;
    private @Nullable String target;
    private @Nullable MixerTransport transport;
    private Ticker ticker = Ticker.SYSTEM;
    private FailPolicy failPolicy = FailPolicy.OPEN;
    private Duration checkTimeout = Duration.ofSeconds(5);
    private Duration reportTimeout = Duration.ofSeconds(5);
    private int maxAttempts = 3;
    private Duration initialBackoff = Duration.ofMillis(20);
    private Duration maxBackoff = Duration.ofMillis(500);
    private boolean checkCache = true;
    private boolean quotaPrefetch = true;
    private int checkCacheMaxEntries = 10_000;
    private int maxShapes = 256;
    private QuotaPool.Options prefetch = QuotaPool.Options.DEFAULTS;
    private int reportMaxEntries = 1000;
    private Duration reportMaxDelay = Duration.ofSeconds(1);
    private int reportQueueCapacity = 10_000;
    private Duration closeTimeout = Duration.ofSeconds(5);
    private int globalWordCount = GlobalDictionary.SIZE;
    private boolean propagateB3 = true;
    private @Nullable Executor refillExecutor;

    private Builder() {}

    /** Talks to Mixer over {@code channel}; the caller keeps owning (and shuts down) the channel. */
    public Builder channel(Channel channel) {
      this.channel = requireNonNull(channel, "channel");
      return this;
    }

    /**
     * Talks to Mixer at {@code target} ({@code host:port} or a gRPC target URI) in plaintext, over a
     * channel the client creates and closes. Needs a gRPC transport (grpc-netty-shaded, grpc-netty or
     * grpc-okhttp) on the class path.
     */
    public Builder target(String target) {
      this.target = requireNonNull(target, "target");
      return this;
    }

    /** What to answer when Mixer cannot be reached. Default {@link FailPolicy#OPEN}. */
    public Builder failPolicy(FailPolicy policy) {
      this.failPolicy = requireNonNull(policy, "policy");
      return this;
    }

    /** How long one Check may take, retries included. Default 5 s. */
    public Builder checkTimeout(Duration timeout) {
      this.checkTimeout = positive(timeout, "checkTimeout");
      return this;
    }

    /** How long one Report may take, retries included. Default 5 s. */
    public Builder reportTimeout(Duration timeout) {
      this.reportTimeout = positive(timeout, "reportTimeout");
      return this;
    }

    /**
     * Retries of calls that failed with UNAVAILABLE: at most {@code maxAttempts} calls in all, waiting
     * {@code initialBackoff} (doubling up to {@code maxBackoff}, with jitter) between them. Default 3,
     * 20 ms, 500 ms.
     */
    public Builder retries(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: >= 1)");
      }
      this.maxAttempts = maxAttempts;
      this.initialBackoff = positive(initialBackoff, "initialBackoff");
      this.maxBackoff = positive(maxBackoff, "maxBackoff");
      return this;
    }

    /** Whether to cache Check answers (and so whether to prefetch quota). Default true. */
    public Builder checkCache(boolean enabled) {
      this.checkCache = enabled;
      return this;
    }

    /** The Check cache's and the quota cache's size in entries. Default 10000. */
    public Builder checkCacheMaxEntries(int max) {
      this.checkCacheMaxEntries = atLeastOne(max, "checkCacheMaxEntries");
      return this;
    }

    /** Whether quota is served from a prefetched local pool after a Check cache hit. Default true. */
    public Builder quotaPrefetch(boolean enabled) {
      this.quotaPrefetch = enabled;
      return this;
    }

    /** Report batches: at most {@code maxEntries} records, sent at most {@code maxDelay} after the first. */
    public Builder reportBatch(int maxEntries, Duration maxDelay) {
      this.reportMaxEntries = atLeastOne(maxEntries, "reportBatch maxEntries");
      this.reportMaxDelay = requireNonNull(maxDelay, "maxDelay");
      if (maxDelay.isNegative()) {
        throw new IllegalArgumentException("reportBatch maxDelay: " + maxDelay + " (expected: >= 0)");
      }
      return this;
    }

    /** Records that may wait for Mixer before new ones are dropped. Default 10000. */
    public Builder reportQueueCapacity(int capacity) {
      this.reportQueueCapacity = atLeastOne(capacity, "reportQueueCapacity");
      return this;
    }

    /** How long {@link MixerClient#close} waits for queued reports to be sent. Default 5 s. */
    public Builder closeTimeout(Duration timeout) {
      this.closeTimeout = positive(timeout, "closeTimeout");
      return this;
    }

    /** Global dictionary words this client may use (0..167). Default 167. */
    public Builder globalWordCount(int count) {
      if (count < 0 || count > GlobalDictionary.SIZE) {
        throw new IllegalArgumentException(
            "globalWordCount: " + count + " (expected: 0-" + GlobalDictionary.SIZE + ")");
      }
      this.globalWordCount = count;
      return this;
    }

    /** Whether Check carries the current Brave span's B3 headers. Default true (no-op without Brave). */
    public Builder propagateB3(boolean enabled) {
      this.propagateB3 = enabled;
      return this;
    }

    Builder transport(MixerTransport transport) {
      this.transport = transport;
      return this;
    }

    Builder refillExecutor(Executor executor) {
      this.refillExecutor = executor;
      return this;
    }

    Builder ticker(Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    Builder prefetch(QuotaPool.Options options) {
      this.prefetch = options;
      return this;
    }

    /** Builds the client and starts its report sender thread. */
    public MixerClient build() {
      MixerTransport t = transport;
      if (t == null) {
        if (channel != null) {
          t = new GrpcTransport(channel, null);
        } else if (target != null) {
          ManagedChannel owned = Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
          t = new GrpcTransport(owned, owned);
        } else {
          throw new IllegalStateException("MixerClient: neither channel nor target set (expected: one of them)");
        }
      }
      return new MixerClient(this, t);
    }

    private static Duration positive(Duration d, String name) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
      }
      return d;
    }

    private static int atLeastOne(int n, String name) {
      if (n < 1) {
        throw new IllegalArgumentException(name + ": " + n + " (expected: >= 1)");
      }
      return n;
    }
  }
}
