package io.istio4j.mixer.server;

import com.google.protobuf.Struct;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.Status;
import io.istio4j.template.checknothing.CheckNothingHandler;
import io.istio4j.template.checknothing.CheckNothingHandlerBuilder;
import io.istio4j.template.checknothing.CheckNothingInstance;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** A test adapter on the server's test class path: kind {@code testdeny}, denies with its spec's {@code message}. */
public final class TestDenyAdapter implements Adapter {

  /** Handlers built, by every Mixer in this JVM. */
  static final AtomicInteger BUILDS = new AtomicInteger();

  @Override
  public AdapterInfo info() {
    return AdapterInfo.builder("testdeny")
        .description("denies every check with spec.message (tests only)")
        .supportedTemplates("checknothing")
        .defaultConfig(Struct.getDefaultInstance())
        .builderFactory(Builder::new)
        .build();
  }

  static final class Builder implements CheckNothingHandlerBuilder<Struct> {
    private Struct config;

    @Override
    public void setAdapterConfig(Struct config) {
      this.config = config;
    }

    @Override
    public ConfigErrors validate() {
      ConfigErrors errors = new ConfigErrors();
      if (!config.containsFields("message")) {
        errors.add("message", "required");
      }
      return errors;
    }

    @Override
    public Handler build(Env env) {
      BUILDS.incrementAndGet();
      String message = config.getFieldsOrThrow("message").getStringValue();
      return new CheckNothingHandler() {
        @Override
        public CheckResult handleCheckNothing(CheckNothingInstance instance) {
          return CheckResult.of(Status.of(Status.Code.PERMISSION_DENIED, message), Duration.ofSeconds(3), 30);
        }

        @Override
        public void close() {}
      };
    }
  }
}
