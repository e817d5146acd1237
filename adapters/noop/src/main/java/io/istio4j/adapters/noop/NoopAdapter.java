package io.istio4j.adapters.noop;

import com.google.protobuf.Empty;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.template.apikey.ApiKeyHandler;
import io.istio4j.template.apikey.ApiKeyHandlerBuilder;
import io.istio4j.template.apikey.ApiKeyInstance;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.logentry.LogEntryHandler;
import io.istio4j.template.logentry.LogEntryHandlerBuilder;
import io.istio4j.template.logentry.LogEntryInstance;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricHandlerBuilder;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaInstance;
import io.istio4j.template.reportnothing.ReportNothingHandler;
import io.istio4j.template.reportnothing.ReportNothingHandlerBuilder;
import io.istio4j.template.reportnothing.ReportNothingInstance;
import io.istio4j.template.tracespan.TraceSpanHandler;
import io.istio4j.template.tracespan.TraceSpanHandlerBuilder;
import io.istio4j.template.tracespan.TraceSpanInstance;
import java.time.Duration;
import java.util.List;

/**
 * The noop adapter: accepts every bundled template; checks are OK for 10^9 seconds and 10^9 uses,
 * quotas are granted in full, reports are dropped. Useful to measure Mixer without a backend and to
 * switch an adapter off without removing its rules.
 */
public final class NoopAdapter implements Adapter {

  static final CheckResult OK = CheckResult.of(Status.OK, Duration.ofSeconds(1_000_000_000L), 1_000_000_000);

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("noop")
        .description("Does nothing: every check OK, every quota granted, every report dropped")
        .supportedTemplates("checknothing", "reportnothing", "listentry", "logentry", "metric", "quota",
            "apikey", "tracespan")
        .defaultConfig(Empty.getDefaultInstance())
        .builderFactory(Builder::new)
        .build();
  }

  static final class Builder implements CheckNothingHandlerBuilder<Empty>, ReportNothingHandlerBuilder<Empty>,
      ListEntryHandlerBuilder<Empty>, LogEntryHandlerBuilder<Empty>, MetricHandlerBuilder<Empty>,
      QuotaHandlerBuilder<Empty>, ApiKeyHandlerBuilder<Empty>, TraceSpanHandlerBuilder<Empty> {

    @Override
    public void setAdapterConfig(Empty config) {}

    @Override
    public ConfigErrors validate() {
      return new ConfigErrors();
    }

    @Override
    public Handler build(Env env) {
      return new NoopHandler();
    }
  }

  static final class NoopHandler implements CheckNothingHandler, ReportNothingHandler, ListEntryHandler,
      LogEntryHandler, MetricHandler, QuotaHandler, ApiKeyHandler, TraceSpanHandler {

    @Override
    public CheckResult handleCheckNothing(CheckNothingInstance instance) {
      return OK;
    }

    @Override
    public CheckResult handleListEntry(ListEntryInstance instance) {
      return OK;
    }

    @Override
    public CheckResult handleApiKey(ApiKeyInstance instance) {
      return OK;
    }

    @Override
    public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
      return QuotaResult.granted(args.amount(), OK.validDuration());
    }

    @Override
    public void handleReportNothing(List<ReportNothingInstance> instances) {}

    @Override
    public void handleLogEntry(List<LogEntryInstance> instances) {}

    @Override
    public void handleMetric(List<MetricInstance> instances) {}

    @Override
    public void handleTraceSpan(List<TraceSpanInstance> instances) {}

    @Override
    public void close() {}
  }
}
