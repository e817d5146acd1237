package com.acme.mixer.budget;

import com.acme.mixer.budget.config.Params;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import java.time.Duration;

/** Checks a budget handler's config and builds the handler. */
final class BudgetBuilder implements QuotaHandlerBuilder<Params> {

  private Params params;

  @Override
  public void setAdapterConfig(Params params) {
    this.params = params;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    if (params.getMaxAmount() <= 0) {
      errors.addf("maxAmount", "must be > 0, got %d", params.getMaxAmount());
    }
    if (window().isNegative() || window().isZero()) {
      errors.add("window", "must be > 0, got " + window());
    }
    return errors;
  }

  @Override
  public Handler build(Env env) {
    return new BudgetHandler(params.getMaxAmount(), window(), env.clock());
  }

  private Duration window() {
    return Duration.ofSeconds(params.getWindow().getSeconds(), params.getWindow().getNanos());
  }
}
