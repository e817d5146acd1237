package io.istio4j.adapters.denier;

import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaInstance;
import java.time.Duration;

/** Returns the same result for every check; quota calls get an empty result (nothing granted), as upstream. */
final class DenierHandler implements CheckNothingHandler, ListEntryHandler, QuotaHandler {

  private final CheckResult result;
  private final QuotaResult quota;

  DenierHandler(CheckResult result) {
    this.result = result;
    this.quota = new QuotaResult(Status.OK, Duration.ZERO, 0); // upstream: empty, nothing granted
  }

  @Override
  public CheckResult handleCheckNothing(CheckNothingInstance instance) {
    return result;
  }

  @Override
  public CheckResult handleListEntry(ListEntryInstance instance) {
    return result;
  }

  @Override
  public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
    return quota;
  }

  @Override
  public void close() {}
}
