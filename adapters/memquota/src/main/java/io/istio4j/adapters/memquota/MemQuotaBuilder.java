package io.istio4j.adapters.memquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaConfigValidation;
import io.istio4j.adapter.ValueType;
import io.istio4j.adapters.memquota.config.Params;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaType;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** Checks a memquota config against the quota instances bound to the handler and builds it. */
final class MemQuotaBuilder implements QuotaHandlerBuilder<Params> {

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

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    if (Durations.toNanos(params.getMinDeduplicationDuration()) <= 0) {
      errors.add("minDeduplicationDuration",
          Durations.toString(params.getMinDeduplicationDuration()) + " (expected: > 0)");
    }
    QuotaConfigValidation quotas = QuotaConfigValidation.builder(errors, dimensions).build(); // 0s: a counter
    for (int i = 0; i < params.getQuotasCount(); i++) {
      Params.Quota q = params.getQuotas(i);
      quotas.quota(i, q.getName(), q.getMaxAmount(), toDuration(q.getValidDuration()));
      for (int j = 0; j < q.getOverridesCount(); j++) {
        Params.Override o = q.getOverrides(j);
        quotas.override(i, j, o.getDimensionsMap(), o.getMaxAmount(), toDuration(o.getValidDuration()));
      }
    }
    return quotas.finish();
  }

  @Override
  public Handler build(Env env) {
    MemQuotaHandler handler = new MemQuotaHandler(params, env.clock(), dimensions);
    env.scheduleAtFixedRate(handler::sweep, Duration.ofSeconds(10), Duration.ofSeconds(10));
    return handler;
  }

  private static Duration toDuration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
