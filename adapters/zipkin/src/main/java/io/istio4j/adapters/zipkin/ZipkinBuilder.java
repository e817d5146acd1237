package io.istio4j.adapters.zipkin;

import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapters.zipkin.config.Params;
import io.istio4j.template.tracespan.TraceSpanHandlerBuilder;

/** Checks a zipkin config and builds its handler. */
final class ZipkinBuilder implements TraceSpanHandlerBuilder<Params> {

  /** Zipkin's limit is not documented; service names longer than this are surely a mistake. */
  static final int MAX_NAME = 255;

  private Params params;

  @Override
  public void setAdapterConfig(Params config) {
    this.params = config;
  }

  @Override
  public ConfigErrors validate() {
    ConfigErrors errors = new ConfigErrors();
    checkName(errors, "serviceName", params.getServiceName());
    checkName(errors, "serviceNameTag", params.getServiceNameTag());
    return errors;
  }

  private static void checkName(ConfigErrors errors, String field, String value) {
    if (value.length() > MAX_NAME) {
      errors.addf(field, "%d characters (expected: at most %d)", value.length(), MAX_NAME);
    } else if (!value.equals(value.strip()) || value.chars().anyMatch(Character::isISOControl)) {
      errors.add(field, "\"" + value + "\" has control characters or surrounding spaces");
    }
  }

  @Override
  public Handler build(Env env) {
    String service = params.getServiceName().isEmpty() ? ZipkinAdapter.DEFAULT_SERVICE_NAME : params.getServiceName();
    if (!env.tracingEnabled()) {
      env.reportError("mixs runs without --zipkinURL: tracespan instances are dropped");
    }
    return new ZipkinHandler(env, service, params.getServiceNameTag());
  }
}
