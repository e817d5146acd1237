package io.istio4j.adapters.zipkin;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.AdapterMetrics;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.ReportedSpan;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapters.zipkin.config.Params;
import io.istio4j.template.tracespan.TraceSpanHandler;
import io.istio4j.template.tracespan.TraceSpanInstance;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class ZipkinAdapterTest {

  private static final Instant START = Instant.parse("2017-10-10T00:00:01.000123Z");

  /** A test env whose Mixer has a trace reporter that keeps what it is given. */
  static final class ReportingEnv implements Env {
    final TestEnv delegate = TestEnv.create();
    final List<ReportedSpan> reported = new ArrayList<>();
    final boolean enabled;
    String error;

    ReportingEnv(boolean enabled) {
      this.enabled = enabled;
    }

    @Override
    public Logger logger() {
      return delegate.logger();
    }

    @Override
    public Clock clock() {
      return delegate.clock();
    }

    @Override
    public Future<?> scheduleWork(Runnable work) {
      return delegate.scheduleWork(work);
    }

    @Override
    public Future<?> scheduleDaemon(Runnable daemon) {
      return delegate.scheduleDaemon(daemon);
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable work, Duration delay) {
      return delegate.schedule(work, delay);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable work, Duration initialDelay, Duration period) {
      return delegate.scheduleAtFixedRate(work, initialDelay, period);
    }

    @Override
    public AdapterMetrics metrics() {
      return delegate.metrics();
    }

    @Override
    public void reportError(String message) {
      error = message;
    }

    @Override
    public boolean reportSpan(ReportedSpan span) {
      if (enabled) {
        reported.add(span);
      }
      return enabled;
    }

    @Override
    public boolean tracingEnabled() {
      return enabled;
    }
  }

  private static TraceSpanHandler handler(Params params, Env env) {
    ZipkinBuilder b = new ZipkinBuilder();
    b.setAdapterConfig(params);
    assertThat(b.validate().isEmpty()).isTrue();
    return (TraceSpanHandler) b.build(env);
  }

  private static TraceSpanInstance span(String traceId, String spanId, String parent, Map<String, Object> tags) {
    return new TraceSpanInstance("span.tracespan.istio-system", traceId, spanId, parent, "GET /productpage",
        START, START.plusMillis(12), tags);
  }

  @Test
  void instancesBecomeSpansOnMixersReporter() {
    ReportingEnv env = new ReportingEnv(true);
    TraceSpanHandler h = handler(ZipkinAdapter.DEFAULTS.toBuilder().setServiceNameTag("source.service").build(), env);

    h.handleTraceSpan(List.of(
        span("463AC35C9F6413AD48485A3953BB6124", "a2fb4a1d1a96d312", "0020000000000001",
            Map.of("http.status_code", 200L, "source.service", "productpage")),
        span("463ac35c9f6413ad", "b2fb4a1d1a96d312", "", Map.of())));

    assertThat(env.reported).hasSize(2);
    ReportedSpan first = env.reported.get(0);
    assertThat(first.traceId()).isEqualTo("463ac35c9f6413ad48485a3953bb6124");
    assertThat(first.parentSpanId()).isEqualTo("0020000000000001");
    assertThat(first.serviceName()).isEqualTo("productpage");
    assertThat(first.tags()).containsEntry("http.status_code", "200");
    assertThat(first.end()).isEqualTo(START.plusMillis(12));
    ReportedSpan second = env.reported.get(1);
    assertThat(second.parentSpanId()).isNull();
    assertThat(second.serviceName()).isEqualTo("istio-proxy");
    assertThat(env.error).isNull();
  }

  @Test
  void malformedIdsSkipTheInstanceNotTheBatch() {
    ReportingEnv env = new ReportingEnv(true);
    TraceSpanHandler h = handler(ZipkinAdapter.DEFAULTS, env);

    h.handleTraceSpan(List.of(
        span("not-hex-at-all!!", "a2fb4a1d1a96d312", "", Map.of()),
        span("463ac35c9f6413ad", "123", "", Map.of()),
        span("463ac35c9f6413ad", "a2fb4a1d1a96d312", "0000000000000000", Map.of()),
        span("x".repeat(100_000), "a2fb4a1d1a96d312", "", Map.of()),
        span("463ac35c9f6413ad", "a2fb4a1d1a96d312", "", Map.of())));

    assertThat(env.reported).hasSize(1);
  }

  @Test
  void withoutAReporterTheHandlerSaysSoAndDrops() {
    ReportingEnv env = new ReportingEnv(false);
    TraceSpanHandler h = handler(ZipkinAdapter.DEFAULTS, env);

    h.handleTraceSpan(List.of(span("463ac35c9f6413ad", "a2fb4a1d1a96d312", "", Map.of())));

    assertThat(env.error).contains("--zipkinURL");
    assertThat(env.reported).isEmpty();
  }

  @Test
  void configErrorsNameTheField() {
    ZipkinBuilder b = new ZipkinBuilder();
    b.setAdapterConfig(Params.newBuilder().setServiceName("a\nb").setServiceNameTag("t".repeat(300)).build());

    ConfigErrors errors = b.validate();

    assertThat(errors.toString()).contains("serviceName").contains("serviceNameTag").contains("at most 255");
  }
}
