package io.istio4j.adapter.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Counter;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Gauge;
import io.istio4j.adapter.Status;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import io.istio4j.template.listentry.ListEntryInstance;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class TestMixerTest {

  private static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: probe
      metadata: {name: handler, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listentry
      metadata: {name: value, namespace: istio-system}
      spec:
        value: source.name | "none"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: probe, namespace: istio-system}
      spec:
        actions:
        - handler: handler.probe
          instances: [value.listentry]
      """;

  private static Map<String, Object> from(String source) {
    return Map.of("destination.service", "ratings.default.svc.cluster.local", "source.name", source);
  }

  /** Answers by the value: "fail" throws, "stall" waits until the handler is closed, else OK; counts calls. */
  static final class Probe implements Adapter {
    final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public AdapterInfo info() {
      return AdapterInfo.builder("probe")
          .supportedTemplates("listentry")
          .defaultConfig(Struct.getDefaultInstance())
          .builderFactory(() -> new ListEntryHandlerBuilder<Struct>() {
            @Override
            public void setAdapterConfig(Struct config) {}

            @Override
            public ConfigErrors validate() {
              return new ConfigErrors();
            }

            @Override
            public Handler build(Env env) {
              Counter calls = env.metrics().counter("probe_calls", "Calls by value", "value");
              Gauge.Child last = env.metrics().gauge("probe_last_length", "Length of the last value").labelValues();
              env.reportError("probe is only a test");
              return new Handler(calls, last);
            }
          })
          .blocking()
          .build();
    }

    final class Handler implements ListEntryHandler {
      private final Counter calls;
      private final Gauge.Child last;

      Handler(Counter calls, Gauge.Child last) {
        this.calls = calls;
        this.last = last;
      }

      @Override
      public CheckResult handleListEntry(ListEntryInstance instance) {
        calls.labelValues(instance.value()).inc();
        last.set(instance.value().length());
        if (instance.value().equals("fail")) {
          throw new IllegalStateException("probe failed");
        }
        if (instance.value().equals("stall")) {
          try {
            closed.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return CheckResult.of(Status.OK, Duration.ofSeconds(5), 10);
      }

      @Override
      public void close() {
        closed.countDown();
      }
    }
  }

  @Test
  void readsTheAdaptersMetricsBack() {
    try (TestMixer mixer = TestMixer.builder().adapters(new Probe()).config(CONFIG).start()) {
      mixer.check(from("reviews"));
      mixer.check(from("reviews"));
      mixer.check(from("details"));
      assertThat(mixer.counterValue("probe_calls", "value", "reviews")).isEqualTo(2);
      assertThat(mixer.counterValue("probe_calls")).isEqualTo(3);
      assertThat(mixer.gaugeValue("probe_last_length")).isEqualTo("details".length());
    }
  }

  @Test
  void showsTheErrorAHandlerReportedOnTheConfigStatus() {
    try (TestMixer mixer = TestMixer.builder().adapters(new Probe()).config(CONFIG).start()) {
      assertThat(mixer.configStatus()).contains("handler.probe.istio-system").contains("probe is only a test");
    }
  }

  @Test
  void aFailingHandlerDeniesUnlessTheMixerFailsOpen() {
    try (TestMixer closed = TestMixer.builder().adapters(new Probe()).config(CONFIG).start()) {
      TestMixer.CheckOutcome out = closed.check(from("fail"));
      assertThat(out.code()).isEqualTo(Status.Code.INTERNAL.number());
      assertThat(out.message()).contains("handler.probe.istio-system");
    }
    try (TestMixer open = TestMixer.builder().adapters(new Probe()).config(CONFIG).failOpen().start()) {
      assertThat(open.check(from("fail")).code()).isZero();
    }
  }

  @Test
  void aHandlerThatMissesTheHandlerTimeoutFailsTheCheck() {
    try (TestMixer mixer = TestMixer.builder().adapters(new Probe()).config(CONFIG)
        .handlerTimeout(Duration.ofMillis(200)).start()) {
      TestMixer.CheckOutcome out = mixer.check(from("stall"));
      assertThat(out.code()).isEqualTo(Status.Code.INTERNAL.number());
      assertThat(out.message()).contains("handler.probe.istio-system");
    }
  }
}
