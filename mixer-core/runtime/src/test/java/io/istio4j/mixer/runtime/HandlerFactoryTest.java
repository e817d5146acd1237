package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Empty;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.HandlerBuilder;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.ValueType;
import io.istio4j.mixer.runtime.testing.TestParams;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.checknothing.CheckNothingInstance;
import io.istio4j.template.checknothing.CheckNothingType;
import io.istio4j.template.metric.MetricHandler;
import io.istio4j.template.metric.MetricHandlerBuilder;
import io.istio4j.template.metric.MetricInstance;
import io.istio4j.template.metric.MetricType;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandlerFactoryTest {

  private static final Templates TEMPLATES = Templates.load(HandlerFactoryTest.class.getClassLoader());
  private final HandlerFactory factory = new HandlerFactory(TEMPLATES);
  private final HandlerEnv env = new HandlerEnv("test", "h.test.ns", Clock.systemUTC(),
      Executors.newSingleThreadScheduledExecutor(), Executors.newCachedThreadPool(),
      new RegistryAdapterMetrics(new PrometheusRegistry()));

  @AfterEach
  void closeEnv() {
    env.close();
  }

  /** A handler of both templates, recording what its builder was given. */
  static final class Both implements CheckNothingHandler, MetricHandler {
    final TestParams params;
    final Map<String, MetricType> metricTypes;
    final AtomicBoolean closed = new AtomicBoolean();

    Both(TestParams params, Map<String, MetricType> metricTypes) {
      this.params = params;
      this.metricTypes = metricTypes;
    }

    @Override
    public CheckResult handleCheckNothing(CheckNothingInstance instance) {
      return CheckResult.of(Status.OK, Duration.ofSeconds(1), params.getValidUseCount());
    }

    @Override
    public void handleMetric(List<MetricInstance> instances) {}

    @Override
    public void close() {
      closed.set(true);
    }
  }

  static class BothBuilder implements CheckNothingHandlerBuilder<TestParams>, MetricHandlerBuilder<TestParams> {
    TestParams params;
    Map<String, MetricType> metricTypes = Map.of();

    @Override
    public void setMetricTypes(Map<String, MetricType> types) {
      this.metricTypes = types;
    }

    @Override
    public void setAdapterConfig(TestParams config) {
      this.params = config;
    }

    @Override
    public ConfigErrors validate() {
      ConfigErrors errors = new ConfigErrors();
      if (params.getValidUseCount() < 0) {
        errors.addf("validUseCount", "must be >= 0, got %d", params.getValidUseCount());
      }
      return errors;
    }

    @Override
    public Handler build(Env env) {
      return new Both(params, metricTypes);
    }
  }

  private static AdapterInfo adapter(String name, Supplier<? extends HandlerBuilder<?>> factory) {
    return AdapterInfo.builder(name)
        .description("test adapter")
        .supportedTemplates("checknothing", "metric")
        .defaultConfig(TestParams.newBuilder().setValidUseCount(100).build())
        .builderFactory(factory)
        .build();
  }

  @Test
  void buildsAHandlerWithItsConfigAndInferredTypes() throws Exception {
    MetricType type = new MetricType(ValueType.INT64, Map.of("code", ValueType.INT64), Map.of());
    Handler h = factory.build("h.both.ns", adapter("both", BothBuilder::new),
        TestParams.newBuilder().setValidUseCount(9).build(),
        Map.of("metric", Map.of("requestcount.metric.ns", type),
            "checknothing", Map.of("c.checknothing.ns", new CheckNothingType())), env);
    assertThat(h).isInstanceOf(Both.class);
    Both both = (Both) h;
    assertThat(both.params.getValidUseCount()).isEqualTo(9);
    assertThat(both.metricTypes).containsExactly(Map.entry("requestcount.metric.ns", type));
  }

  @Test
  void aBuilderMissingATemplateInterfaceIsRejectedNamingAdapterAndTemplate() {
    class OnlyCheck extends BothBuilder {}
    AdapterInfo info = AdapterInfo.builder("halfdone")
        .supportedTemplates("checknothing", "listentry")
        .defaultConfig(TestParams.getDefaultInstance())
        .builderFactory(OnlyCheck::new)
        .build();
    assertThatThrownBy(() -> factory.build("h.halfdone.ns", info, TestParams.getDefaultInstance(), Map.of(), env))
        .isInstanceOf(HandlerBuildException.class)
        .hasMessageContaining("adapter 'halfdone' supports template 'listentry'")
        .hasMessageContaining("does not implement io.istio4j.template.listentry.ListEntryHandlerBuilder");
  }

  @Test
  void aHandlerMissingATemplateInterfaceIsRejectedAndClosed() {
    AtomicBoolean closed = new AtomicBoolean();
    final class CheckOnly implements CheckNothingHandler {
      @Override
      public CheckResult handleCheckNothing(CheckNothingInstance instance) {
        return CheckResult.of(Status.OK, Duration.ZERO, 0);
      }

      @Override
      public void close() {
        closed.set(true);
      }
    }
    AdapterInfo info = adapter("forgetful", () -> new BothBuilder() {
      @Override
      public Handler build(Env env) {
        return new CheckOnly();
      }
    });
    assertThatThrownBy(() -> factory.build("h.forgetful.ns", info, TestParams.getDefaultInstance(), Map.of(), env))
        .isInstanceOf(HandlerBuildException.class)
        .hasMessageContaining("adapter 'forgetful' supports template 'metric'")
        .hasMessageContaining("does not implement io.istio4j.template.metric.MetricHandler");
    assertThat(closed).isTrue();
  }

  @Test
  void validationErrorsRejectTheHandlerWithTheFieldPath() {
    assertThatThrownBy(() -> factory.build("h.both.ns", adapter("both", BothBuilder::new),
            TestParams.newBuilder().setValidUseCount(-1).build(), Map.of(), env))
        .hasMessage("handler 'h.both.ns' (adapter 'both'): invalid config: validUseCount: must be >= 0, got -1")
        .isInstanceOfSatisfying(HandlerBuildException.class, e -> assertThat(e.retryable()).isFalse());
  }

  @Test
  void aThrowingBuildIsContained() {
    AdapterInfo info = adapter("broken", () -> new BothBuilder() {
      @Override
      public Handler build(Env env) {
        throw new IllegalStateException("cannot reach backend 10.0.0.1:6379");
      }
    });
    assertThatThrownBy(() -> factory.build("h.broken.ns", info, TestParams.getDefaultInstance(), Map.of(), env))
        .hasMessageContaining("build failed")
        .hasMessageContaining("cannot reach backend 10.0.0.1:6379")
        .isInstanceOfSatisfying(HandlerBuildException.class, e -> assertThat(e.retryable())
            .as("a failure of the build step may pass: the runtime builds it again later").isTrue());
  }

  @Test
  void aBuildRefusingItsConfigIsNotRetried() {
    AdapterInfo info = adapter("confined", () -> new BothBuilder() {
      @Override
      public Handler build(Env env) {
        throw new IllegalArgumentException("outputPath: '/etc/passwd': writing files is not allowed");
      }
    });
    assertThatThrownBy(() -> factory.build("h.confined.ns", info, TestParams.getDefaultInstance(), Map.of(), env))
        .hasMessage("handler 'h.confined.ns' (adapter 'confined'): invalid config: outputPath: '/etc/passwd': "
            + "writing files is not allowed")
        .isInstanceOfSatisfying(HandlerBuildException.class, e -> assertThat(e.retryable())
            .as("building it again cannot pass").isFalse());
  }

  @Test
  void instancesOfAnUnsupportedTemplateAreRejected() {
    assertThatThrownBy(() -> factory.build("h.both.ns", adapter("both", BothBuilder::new),
            TestParams.getDefaultInstance(), Map.of("quota", Map.of()), env))
        .hasMessageContaining("adapter 'both' does not support template 'quota'");
  }

  @Test
  void aConfigOfAnotherTypeIsRejected() {
    assertThatThrownBy(() -> factory.build("h.both.ns", adapter("both", BothBuilder::new),
            Empty.getDefaultInstance(), Map.of(), env))
        .hasMessageContaining("config is a google.protobuf.Empty, expected istio4j.testing.TestParams");
  }

  @Test
  void adaptersMustNameTemplatesOfTheBuild() {
    Adapter ghost = () -> AdapterInfo.builder("ghost")
        .supportedTemplates("authorization")
        .defaultConfig(TestParams.getDefaultInstance())
        .builderFactory(BothBuilder::new)
        .build();
    assertThatThrownBy(() -> Adapters.of(TEMPLATES, ghost))
        .hasMessage("adapter 'ghost' supports template 'authorization', which is not in this build");
    Adapter clash = () -> AdapterInfo.builder("metric")
        .supportedTemplates("metric")
        .defaultConfig(TestParams.getDefaultInstance())
        .builderFactory(BothBuilder::new)
        .build();
    assertThatThrownBy(() -> Adapters.of(TEMPLATES, clash))
        .hasMessageContaining("has the name of a template");
  }

  @Test
  void adapterNamesMustBeRfc1035Labels() {
    assertThatThrownBy(() -> AdapterInfo.builder("Bad_Name").supportedTemplates("metric")
            .defaultConfig(TestParams.getDefaultInstance()).builderFactory(BothBuilder::new).build())
        .hasMessageContaining("'Bad_Name' (expected: an RFC 1035 label");
  }

  @Test
  void envCancelsTheHandlersWorkWhenClosed() throws Exception {
    CountDownLatch ran = new CountDownLatch(2);
    ScheduledFuture<?> f =
        env.scheduleAtFixedRate(ran::countDown, Duration.ZERO, Duration.ofMillis(5));
    assertThat(ran.await(5, TimeUnit.SECONDS)).isTrue();
    env.close();
    assertThat(f.isCancelled()).isTrue();
    assertThatThrownBy(() -> env.scheduleWork(() -> {})).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void adapterMetricsAreGetOrCreate() {
    PrometheusRegistry registry = new PrometheusRegistry();
    RegistryAdapterMetrics metrics = new RegistryAdapterMetrics(registry);
    assertThat(metrics.counter("list_refreshes", "h", "handler"))
        .isSameAs(metrics.counter("list_refreshes", "h", "handler"));
    assertThatThrownBy(() -> metrics.gauge("list_refreshes", "h", "handler"))
        .hasMessageContaining("already a counter");
  }
}
