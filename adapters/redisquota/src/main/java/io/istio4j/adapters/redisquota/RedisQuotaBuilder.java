package io.istio4j.adapters.redisquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaConfigValidation;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.redisquota.config.Params;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaType;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Checks a redisquota config against the bound quota instances (without touching the network) and builds the handler. */
final class RedisQuotaBuilder implements QuotaHandlerBuilder<Params> {

  /** Most buckets a rolling window may have: every allocation sums them in Redis. */
  static final long MAX_BUCKETS = 1000;
  /** Most allocations in one pipeline: Redis runs a pipeline's scripts back to back. */
  static final long MAX_PIPELINE_LIMIT = 10_000;
  static final long MAX_QUEUE_SIZE = 1_000_000;
  /** Longest pipeline window: every allocation may wait this long before it is sent. */
  static final Duration MAX_PIPELINE_WINDOW = Duration.ofMillis(100);

  private Params params;
  private Map<String, Map<String, ValueType>> dimensions = Map.of();

  @Override
  public void setQuotaTypes(Map<String, QuotaType> types) {
    Map<String, Map<String, ValueType>> byInstance = new HashMap<>();
    types.forEach((name, type) -> byInstance.put(name, type.dimensions()));
    dimensions = Map.copyOf(byInstance);
  }

  @Override
  public void setAdapterConfig(Params config) {
    this.params = config;
  }

  /**
   * The largest limit: the scripts compare counts as Lua numbers (doubles), exact up to 2^53, and
   * the handler sends at most {@code limit + 1}.
   */
  static final long MAX_AMOUNT = (1L << 53) - 2;

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    try {
      // Parsed only: validation never touches the network (no DNS lookup), it runs under the config
      // lock and in `mixs validate`. An unknown host is reported by the handler (handlerError).
      RedisAddress.parse(params.getRedisServerUrl());
    } catch (IllegalArgumentException e) {
      errors.add("redisServerUrl", e.getMessage());
    }
    if (params.getConnectionPoolSize() < 0) {
      errors.addf("connectionPoolSize", "%d (expected: >= 0; 0 means 10)", params.getConnectionPoolSize());
    }
    if (params.getPipelineLimit() < 0 || params.getPipelineLimit() > MAX_PIPELINE_LIMIT) {
      errors.addf("pipelineLimit", "%d (expected: 0 to %d; 0 means %d)", params.getPipelineLimit(),
          MAX_PIPELINE_LIMIT, RedisQuotaHandler.DEFAULT_PIPELINE_LIMIT);
    }
    if (params.getQueueSize() < 0 || params.getQueueSize() > MAX_QUEUE_SIZE) {
      errors.addf("queueSize", "%d (expected: 0 to %d; 0 means %d)", params.getQueueSize(), MAX_QUEUE_SIZE,
          RedisQuotaHandler.DEFAULT_QUEUE_SIZE);
    }
    long windowNanos = Durations.toNanos(params.getPipelineWindow());
    if (windowNanos < 0 || windowNanos > MAX_PIPELINE_WINDOW.toNanos()) {
      errors.add("pipelineWindow", Durations.toString(params.getPipelineWindow()) + " (expected: 0s to "
          + MAX_PIPELINE_WINDOW.toMillis() + "ms)");
    }
    positive(errors, "connectTimeout", params.getConnectTimeout());
    positive(errors, "commandTimeout", params.getCommandTimeout());
    positive(errors, "retryInterval", params.getRetryInterval());
    if (Durations.toNanos(params.getFailureValidDuration()) < 0) {
      errors.add("failureValidDuration", Durations.toString(params.getFailureValidDuration()) + " (expected: >= 0)");
    }
    QuotaConfigValidation quotas = QuotaConfigValidation.builder(errors, dimensions)
        .maxAmount(MAX_AMOUNT)
        .windowRequired(true)
        .build();
    for (int i = 0; i < params.getQuotasCount(); i++) {
      Params.Quota q = params.getQuotas(i);
      Duration window = toDuration(q.getValidDuration());
      quotas.quota(i, q.getName(), q.getMaxAmount(), window);
      if (q.getRateLimitAlgorithm() == Params.QuotaAlgorithm.ROLLING_WINDOW) {
        quotas.bucketDuration(i, toDuration(q.getBucketDuration()), window, MAX_BUCKETS);
      } else if (q.getRateLimitAlgorithm() != Params.QuotaAlgorithm.FIXED_WINDOW) {
        errors.add("quotas[" + i + "].rateLimitAlgorithm", "unknown (expected: FIXED_WINDOW or ROLLING_WINDOW)");
      }
      for (int j = 0; j < q.getOverridesCount(); j++) {
        Params.Override o = q.getOverrides(j);
        quotas.override(i, j, o.getDimensionsMap(), o.getMaxAmount(), null); // the quota's window applies
      }
    }
    return quotas.finish();
  }

  private static Duration toDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  private static void positive(ConfigErrors errors, String field, com.google.protobuf.Duration d) {
    if (Durations.toNanos(d) <= 0) {
      errors.add(field, Durations.toString(d) + " (expected: > 0)");
    }
  }

  @Override
  public Handler build(Env env) {
    return new RedisQuotaHandler(params, RedisAddress.parse(params.getRedisServerUrl()), env, dimensions);
  }
}
