package io.istio4j.adapters.redisquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapters.redisquota.config.Params;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Checks a redisquota config against the bound quota instances and connects to Redis. */
final class RedisQuotaBuilder implements QuotaHandlerBuilder<Params> {

  /** Most buckets a rolling window may have: every allocation sums them in Redis. */
  static final long MAX_BUCKETS = 1000;

  private Params params;
  private Set<String> instances = Set.of();

  @Override
  public void setQuotaTypes(Map<String, QuotaType> types) {
    instances = types.keySet();
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
      RedisAddress address = RedisAddress.parse(params.getRedisServerUrl());
      try {
        InetAddress.getByName(address.host());
      } catch (UnknownHostException e) {
        errors.add("redisServerUrl", "unknown host '" + address.host() + "'");
      }
    } catch (IllegalArgumentException e) {
      errors.add("redisServerUrl", e.getMessage());
    }
    if (params.getConnectionPoolSize() < 0) {
      errors.addf("connectionPoolSize", "%d (expected: >= 0; 0 means 10)", params.getConnectionPoolSize());
    }
    positive(errors, "connectTimeout", params.getConnectTimeout());
    positive(errors, "commandTimeout", params.getCommandTimeout());
    positive(errors, "retryInterval", params.getRetryInterval());
    if (Durations.toNanos(params.getFailureValidDuration()) < 0) {
      errors.add("failureValidDuration", Durations.toString(params.getFailureValidDuration()) + " (expected: >= 0)");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < params.getQuotasCount(); i++) {
      Params.Quota q = params.getQuotas(i);
      String f = "quotas[" + i + "]";
      if (q.getName().isEmpty()) {
        errors.add(f + ".name", "required: the quota instance's fully qualified name");
      } else if (!names.add(q.getName())) {
        errors.add(f + ".name", "'" + q.getName() + "' is configured twice");
      }
      if (q.getMaxAmount() < 0 || q.getMaxAmount() > MAX_AMOUNT) {
        errors.addf(f + ".maxAmount", "%d (expected: 0 to %d)", q.getMaxAmount(), MAX_AMOUNT);
      }
      long window = Durations.toMillis(q.getValidDuration());
      if (window <= 0) {
        errors.add(f + ".validDuration", Durations.toString(q.getValidDuration()) + " (expected: > 0, the window)");
      }
      if (q.getRateLimitAlgorithm() == Params.QuotaAlgorithm.ROLLING_WINDOW) {
        long bucket = Durations.toMillis(q.getBucketDuration());
        if (bucket <= 0) {
          errors.add(f + ".bucketDuration", Durations.toString(q.getBucketDuration())
              + " (expected: > 0 for ROLLING_WINDOW)");
        } else if (window > 0 && bucket > window) {
          errors.add(f + ".bucketDuration", "longer than validDuration");
        } else if (window > 0 && window / bucket > MAX_BUCKETS) {
          errors.addf(f + ".bucketDuration", "makes %d buckets (expected: at most %d)", window / bucket, MAX_BUCKETS);
        }
      } else if (q.getRateLimitAlgorithm() != Params.QuotaAlgorithm.FIXED_WINDOW) {
        errors.add(f + ".rateLimitAlgorithm", "unknown (expected: FIXED_WINDOW or ROLLING_WINDOW)");
      }
      for (int j = 0; j < q.getOverridesCount(); j++) {
        Params.Override o = q.getOverrides(j);
        if (o.getDimensionsCount() == 0) {
          errors.add(f + ".overrides[" + j + "].dimensions", "required: an override applies to particular values");
        }
        if (o.getMaxAmount() < 0 || o.getMaxAmount() > MAX_AMOUNT) {
          errors.addf(f + ".overrides[" + j + "].maxAmount", "%d (expected: 0 to %d)", o.getMaxAmount(), MAX_AMOUNT);
        }
      }
    }
    for (String instance : instances) {
      if (!names.contains(instance)) {
        errors.add("quotas", "no entry for quota instance '" + instance + "' (a quotas[].name must be its FQN)");
      }
    }
    return errors;
  }

  private static void positive(ConfigErrors errors, String field, com.google.protobuf.Duration d) {
    if (Durations.toNanos(d) <= 0) {
      errors.add(field, Durations.toString(d) + " (expected: > 0)");
    }
  }

  @Override
  public Handler build(Env env) {
    return new RedisQuotaHandler(params, RedisAddress.parse(params.getRedisServerUrl()), env);
  }
}
