package io.istio4j.adapters.denier;

import com.google.protobuf.util.Durations;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.Status;
import io.istio4j.adapters.denier.config.Params;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import java.time.Duration;

/** Checks a denier config and builds its handler. */
final class DenierBuilder implements CheckNothingHandlerBuilder<Params>, ListEntryHandlerBuilder<Params>,
    QuotaHandlerBuilder<Params> {

  private Params params;

  @Override
  public void setAdapterConfig(Params config) {
    this.params = config;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    int code = params.getStatus().getCode();
    if (code < 0 || code > 16) {
      errors.addf("status.code", "%d is not a google.rpc.Code (expected: 0-16)", code);
    }
    if (params.hasValidDuration() && !Durations.isValid(params.getValidDuration())) {
      errors.add("validDuration", "not a valid duration");
    } else if (Durations.toNanos(params.getValidDuration()) < 0) {
      errors.add("validDuration", Durations.toString(params.getValidDuration()) + " (expected: >= 0)");
    }
    if (params.getValidUseCount() < 0) {
      errors.addf("validUseCount", "%d (expected: >= 0)", params.getValidUseCount());
    }
    return errors;
  }

  @Override
  public Handler build(Env env) {
    Duration valid = Duration.ofSeconds(params.getValidDuration().getSeconds(), params.getValidDuration().getNanos());
    Status status = Status.of(params.getStatus().getCode(), params.getStatus().getMessage());
    return new DenierHandler(CheckResult.of(status, valid, params.getValidUseCount()));
  }
}
