package io.istio4j.mixerclient;

import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Quota pools keyed like the Check cache, with the quota name mixed in and the quota's own
 * referenced attributes as the shape (spec §7.3: "Quota cache uses the same idea"). Used only after
 * a Check cache hit, as mixerclient does.
 *
 * <p>A request whose pool is unknown, or empty while Mixer has not said the quota is exhausted, asks
 * Mixer on the caller's thread (best effort, for the predicted amount, at least the request's); a pool
 * running low is refilled on a background thread while requests keep taking from it.
 */
final class QuotaCache {

  private final MixerClient.Calls calls;
  private final QuotaPool.Options options;
  private final Ticker ticker;
  private final int maxShapes;
  private final Map<String, ShapeSet> shapes = new ConcurrentHashMap<>();
  private final BoundedMap<CacheKey, QuotaPool> pools;
  private final LongAdder poolGrants = new LongAdder();
  private final LongAdder poolDenials = new LongAdder();
  private final LongAdder fetches = new LongAdder();

  QuotaCache(MixerClient.Calls calls, QuotaPool.Options options, int maxEntries, int maxShapes, Ticker ticker) {
    this.calls = calls;
    this.options = options;
    this.ticker = ticker;
    this.maxShapes = maxShapes;
    this.pools = new BoundedMap<>(maxEntries);
  }

  CheckResult allocate(Attributes attrs, String quota, long amount) {
    long now = ticker.nanos();
    ShapeSet known = shapes.get(quota);
    CacheKey key = known == null ? null : known.find(attrs, quota, pools::containsKey);
    QuotaPool pool = key == null ? null : pools.get(key);
    if (pool != null) {
      if (pool.take(amount, now)) {
        poolGrants.add(amount);
        refillInBackground(pool, attrs, quota, now);
        return CheckResult.ok(CheckResult.Source.QUOTA_POOL);
      }
      if (pool.exhausted(now)) {
        poolDenials.increment();
        return MixerClient.exhausted(quota, CheckResult.Source.QUOTA_POOL);
      }
    }
    return fetchNow(attrs, quota, amount, pool);
  }

  /** Asks Mixer on the caller's thread: the pool is unknown or cannot serve {@code amount}. */
  private CheckResult fetchNow(Attributes attrs, String quota, long amount, @Nullable QuotaPool known) {
    long now = ticker.nanos();
    long ask = amount;
    if (known != null) {
      long predicted = known.startRefill(now, true);
      if (predicted == 0) {
        // A refill is in flight or Mixer just said "exhausted": ask for exactly this request.
        ask = amount;
      } else {
        ask = Math.max(amount, predicted);
        known.refillFailed(); // this call replaces the background refill; a pool learns from refilled()
      }
    } else {
      ask = Math.max(amount, options.minPrefetch());
    }
    fetches.increment();
    MixerClient.Answer a = calls.check(attrs, quota, ask, true);
    if (a.failure != null) {
      return calls.failed(a.failure);
    }
    CheckResponse r = a.response;
    if (r.getPrecondition().getStatus().getCode() != 0) {
      return new CheckResult(r.getPrecondition().getStatus().getCode(), r.getPrecondition().getStatus().getMessage(),
          CheckResult.Source.MIXER);
    }
    QuotaResult q = r.getQuotasMap().get(quota);
    if (q == null) {
      // No rule allocates this quota: Mixer has nothing to say, the request passes (as mixerclient).
      return CheckResult.ok(CheckResult.Source.MIXER);
    }
    QuotaPool pool = poolFor(attrs, quota, q, a.sentAt);
    if (pool == null) {
      return q.getGrantedAmount() >= amount ? CheckResult.ok(CheckResult.Source.MIXER)
          : MixerClient.exhausted(quota, CheckResult.Source.MIXER);
    }
    pool.refilled(ask, q.getGrantedAmount(), Durations.toNanos(q.getValidDuration()), a.sentAt);
    if (pool.take(amount, a.sentAt)) {
      return CheckResult.ok(CheckResult.Source.MIXER);
    }
    return MixerClient.exhausted(quota, CheckResult.Source.MIXER);
  }

  private @Nullable QuotaPool poolFor(Attributes attrs, String quota, QuotaResult q, long now) {
    ReferencedShape shape = ReferencedShape.decode(q.getReferencedAttributes(), attrs);
    if (shape == null || !shapes.computeIfAbsent(quota, k -> new ShapeSet(maxShapes)).add(shape)) {
      return null;
    }
    Object[] values = shape.key(attrs);
    if (values == null) {
      return null;
    }
    return pools.computeIfAbsent(new CacheKey(shape, quota, values), k -> new QuotaPool(options, now));
  }

  private void refillInBackground(QuotaPool pool, Attributes attrs, String quota, long now) {
    long ask = pool.startRefill(now, false);
    if (ask == 0) {
      return;
    }
    fetches.increment();
    Runnable refill = () -> {
      MixerClient.Answer a = calls.check(attrs, quota, ask, true);
      QuotaResult q = a.response == null || a.response.getPrecondition().getStatus().getCode() != 0
          ? null : a.response.getQuotasMap().get(quota);
      if (q == null) {
        pool.refillFailed();
      } else {
        pool.refilled(ask, q.getGrantedAmount(), Durations.toNanos(q.getValidDuration()), a.sentAt);
      }
    };
    try {
      calls.refillExecutor().execute(refill);
    } catch (RejectedExecutionException e) {
      // Too many refills queued (Mixer slow): this pool asks again on a later request.
      pool.refillFailed();
    }
  }

  long poolGrants() {
    return poolGrants.sum();
  }

  long poolDenials() {
    return poolDenials.sum();
  }

  long fetches() {
    return fetches.sum();
  }
}
