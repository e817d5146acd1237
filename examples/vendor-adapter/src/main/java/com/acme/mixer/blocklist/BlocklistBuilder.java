package com.acme.mixer.blocklist;

import com.acme.mixer.blocklist.config.Params;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import java.time.Duration;
import java.util.Set;

/** Checks a blocklist handler's config and builds the handler. */
final class BlocklistBuilder implements ListEntryHandlerBuilder<Params> {

  private Params params;

  @Override
  public void setAdapterConfig(Params params) {
    this.params = params;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    for (int i = 0; i < params.getBlockedCount(); i++) {
      if (params.getBlocked(i).isEmpty()) {
        errors.add("blocked[" + i + "]", "must not be empty");
      }
    }
    if (validDuration().isNegative()) {
      errors.add("validDuration", "must be >= 0, got " + validDuration());
    }
    return errors;
  }

  @Override
  public Handler build(Env env) {
    // One counter shared by every blocklist handler; each resolves its series once, here.
    Counter checks = env.metrics().counter("acme_blocklist_checks", "Checks by result", "result");
    return new BlocklistHandler(Set.copyOf(params.getBlockedList()), validDuration(),
        checks.labelValues("allowed"), checks.labelValues("denied"));
  }

  private Duration validDuration() {
    return Duration.ofSeconds(params.getValidDuration().getSeconds(), params.getValidDuration().getNanos());
  }
}
