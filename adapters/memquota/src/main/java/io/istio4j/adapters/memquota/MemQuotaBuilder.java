package io.istio4j.adapters.memquota;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapters.memquota.config.Params;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaType;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/** Checks a memquota config against the quota instances bound to the handler and builds it. */
final class MemQuotaBuilder implements QuotaHandlerBuilder<Params> {

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

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    if (Durations.toNanos(params.getMinDeduplicationDuration()) <= 0) {
      errors.add("minDeduplicationDuration",
          Durations.toString(params.getMinDeduplicationDuration()) + " (expected: > 0)");
    }
    java.util.Set<String> names = new java.util.HashSet<>();
    for (int i = 0; i < params.getQuotasCount(); i++) {
      Params.Quota q = params.getQuotas(i);
      String f = "quotas[" + i + "]";
      if (q.getName().isEmpty()) {
        errors.add(f + ".name", "required: the quota instance's fully qualified name");
      } else if (!names.add(q.getName())) {
        errors.add(f + ".name", "'" + q.getName() + "' is configured twice");
      }
      if (q.getMaxAmount() < 0) {
        errors.addf(f + ".maxAmount", "%d (expected: >= 0)", q.getMaxAmount());
      }
      if (Durations.toNanos(q.getValidDuration()) < 0) {
        errors.add(f + ".validDuration", Durations.toString(q.getValidDuration()) + " (expected: >= 0)");
      }
      for (int j = 0; j < q.getOverridesCount(); j++) {
        Params.Override o = q.getOverrides(j);
        String of = f + ".overrides[" + j + "]";
        if (o.getDimensionsCount() == 0) {
          errors.add(of + ".dimensions", "required: an override applies to particular dimension values");
        }
        if (o.getMaxAmount() < 0) {
          errors.addf(of + ".maxAmount", "%d (expected: >= 0)", o.getMaxAmount());
        }
        if (Durations.toNanos(o.getValidDuration()) < 0) {
          errors.add(of + ".validDuration", Durations.toString(o.getValidDuration()) + " (expected: >= 0)");
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

  @Override
  public Handler build(Env env) {
    MemQuotaHandler handler = new MemQuotaHandler(params, env.clock());
    env.scheduleAtFixedRate(handler::sweep, Duration.ofSeconds(10), Duration.ofSeconds(10));
    return handler;
  }
}
