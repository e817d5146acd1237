package io.istio4j.adapters.redisquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.redisquota.config.Params;

/**
 * The redisquota adapter: rate limits kept in Redis, so that every Mixer behind a load balancer
 * shares them. Each allocation is one atomic Lua script (fixed or rolling window, deduplication,
 * best effort); allocations arriving together are sent as one pipeline, and no thread waits per
 * call. While Redis cannot be reached the failure policy answers (grant by default).
 */
public final class RedisQuotaAdapter implements Adapter {

  static final Params DEFAULTS = Params.newBuilder()
      .setConnectionPoolSize(10)
      .setConnectTimeout(Durations.fromMillis(500))
      .setCommandTimeout(Durations.fromMillis(200))
      .setFailurePolicy(Params.FailurePolicy.GRANT)
      .setFailureValidDuration(Durations.fromSeconds(1))
      .setRetryInterval(Durations.fromSeconds(1))
      .setPipelineLimit(RedisQuotaHandler.DEFAULT_PIPELINE_LIMIT)
      .setQueueSize(RedisQuotaHandler.DEFAULT_QUEUE_SIZE)
      .build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("redisquota")
        .description("Rate limits shared by every Mixer, kept in Redis")
        .supportedTemplates("quota")
        .defaultConfig(DEFAULTS)
        .builderFactory(RedisQuotaBuilder::new)
        .build(); // not blocking(): the handler is asynchronous (QuotaAsyncHandler)
  }
}
