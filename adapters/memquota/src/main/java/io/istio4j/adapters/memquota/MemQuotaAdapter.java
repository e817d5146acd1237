package io.istio4j.adapters.memquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapters.memquota.config.Params;

/**
 * The memquota adapter: quotas kept in this Mixer's memory, as plain counters (valid duration 0)
 * or rolling windows (10 ticks a second), with overrides by dimensions and deduplication of
 * retried requests. For quotas that hold across several Mixers, use redisquota.
 */
public final class MemQuotaAdapter implements Adapter {

  static final Params DEFAULTS = Params.newBuilder()
      .setMinDeduplicationDuration(Durations.fromSeconds(1))
      .build();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("memquota")
        .description("Volatile in-memory quotas: counters and rolling windows")
        .supportedTemplates("quota")
        .defaultConfig(DEFAULTS)
        .builderFactory(MemQuotaBuilder::new)
        .build();
  }
}
