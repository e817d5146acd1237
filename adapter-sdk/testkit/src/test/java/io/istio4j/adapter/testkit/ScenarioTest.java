package io.istio4j.adapter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Struct;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.Env;
import io.istio4j.adapter.Handler;
import io.istio4j.adapter.QuotaArgs;
import io.istio4j.adapter.QuotaResult;
import io.istio4j.adapter.Status;
import io.istio4j.template.listentry.ListEntryHandler;
import io.istio4j.template.listentry.ListEntryHandlerBuilder;
import io.istio4j.template.listentry.ListEntryInstance;
import io.istio4j.template.quota.QuotaHandler;
import io.istio4j.template.quota.QuotaHandlerBuilder;
import io.istio4j.template.quota.QuotaInstance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioTest {

  /** An adapter that allows values on its list, counts quota per source and records what it saw. */
  static final class Recorder implements Adapter {
    final List<String> seen = new CopyOnWriteArrayList<>();

    @Override
    public AdapterInfo info() {
      return AdapterInfo.builder("recorder")
          .supportedTemplates("listentry", "quota")
          .defaultConfig(Struct.getDefaultInstance())
          .builderFactory(() -> new Builder(seen))
          .build();
    }
  }

  static final class Builder implements ListEntryHandlerBuilder<Struct>, QuotaHandlerBuilder<Struct> {
    private final List<String> seen;
    private Struct config;

    Builder(List<String> seen) {
      this.seen = seen;
    }

    @Override
    public void setAdapterConfig(Struct config) {
      this.config = config;
    }

    @Override
    public ConfigErrors validate() {
      return new ConfigErrors();
    }

    @Override
    public Handler build(Env env) {
      List<String> allowed = config.getFieldsOrThrow("allowed").getListValue().getValuesList().stream()
          .map(v -> v.getStringValue()).toList();
      final class H implements ListEntryHandler, QuotaHandler {
        @Override
        public CheckResult handleListEntry(ListEntryInstance instance) {
          seen.add("list:" + instance.value());
          Status s = allowed.contains(instance.value()) ? Status.OK
              : Status.of(Status.Code.PERMISSION_DENIED, instance.value() + " is not on the list");
          return CheckResult.of(s, Duration.ofSeconds(60), 100);
        }

        @Override
        public QuotaResult handleQuota(QuotaInstance instance, QuotaArgs args) {
          seen.add("quota:" + instance.dimensions() + ":" + args.amount());
          return QuotaResult.granted(args.amount(), Duration.ofSeconds(1));
        }

        @Override
        public void close() {}
      }
      return new H();
    }
  }

  static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: recorder
      metadata: {name: handler, namespace: istio-system}
      spec: {allowed: [reviews.default.svc.cluster.local]}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listentry
      metadata: {name: source, namespace: istio-system}
      spec:
        value: source.service | "unknown"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec:
        dimensions:
          user: request.headers["x-user"] | "anonymous"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: whitelist, namespace: istio-system}
      spec:
        match: destination.service == "ratings.default.svc.cluster.local"
        actions:
        - handler: handler.recorder
          instances: [source.listentry, requestcount.quota]
      """;

  private static Scenario.Builder scenario(Recorder recorder) {
    return Scenario.builder()
        .adapters(recorder)
        .config(CONFIG)
        .check(Map.of("destination.service", "ratings.default.svc.cluster.local",
            "source.service", "reviews.default.svc.cluster.local"))
        .check(Map.of("destination.service", "ratings.default.svc.cluster.local",
            "source.service", "productpage.default.svc.cluster.local"))
        .quota(Map.of("destination.service", "ratings.default.svc.cluster.local",
            "source.service", "reviews.default.svc.cluster.local",
            "request.headers", Map.of("x-user", "jason")), "RequestCount", 2)
        .report(Map.of("destination.service", "ratings.default.svc.cluster.local"))
        .state(() -> Map.of("seen", recorder.seen));
  }

  @Test
  void aScenarioMatchesItsCheckedInGoldenFile() {
    scenario(new Recorder()).run().assertMatchesGolden(Path.of("src/test/resources/golden/recorder.json"));
  }

  @Test
  void aMissingGoldenFileFailsAndSaysHowToCreateIt(@TempDir Path dir) {
    Assumptions.assumeFalse(Boolean.getBoolean(Scenario.UPDATE_PROPERTY),
        "golden files are being rewritten");
    Path golden = dir.resolve("missing.json");
    Scenario.Result result = scenario(new Recorder()).run();
    assertThatThrownBy(() -> result.assertMatchesGolden(golden))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("golden file " + golden.toAbsolutePath() + " does not exist")
        .hasMessageContaining("-Distio4j.testkit.update=true")
        .hasMessageContaining(result.json());
    assertThat(golden).doesNotExist();
  }

  @Test
  void theUpdatePropertyWritesTheGoldenFileAndADifferentResultFails(@TempDir Path dir) throws Exception {
    Path golden = dir.resolve("sub/new.json");
    Scenario.Result result = scenario(new Recorder()).run();
    String before = System.getProperty(Scenario.UPDATE_PROPERTY);
    System.setProperty(Scenario.UPDATE_PROPERTY, "true");
    try {
      result.assertMatchesGolden(golden);
    } finally {
      if (before == null) {
        System.clearProperty(Scenario.UPDATE_PROPERTY);
      } else {
        System.setProperty(Scenario.UPDATE_PROPERTY, before);
      }
    }
    assertThat(Files.readString(golden)).isEqualTo(result.json());
    result.assertMatchesGolden(golden);

    Files.writeString(golden, result.json().replace("\"seen\"", "\"saw\""));
    assertThatThrownBy(() -> result.assertMatchesGolden(golden))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("differs from golden file");
  }

  @Test
  void aConfigWithRejectedObjectsDoesNotStartUnlessAllowed() {
    TestMixer.Builder broken = TestMixer.builder().adapters(new Recorder())
        .config(CONFIG.replace("source.service | \"unknown\"", "source.servic"));
    assertThatThrownBy(broken::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("source.listentry.istio-system")
        .hasMessageContaining("unknown attribute source.servic");
    try (TestMixer m = broken.allowRejections().start()) {
      assertThat(m.rejected()).hasSize(2); // the instance and the rule that uses it
    }
  }
}
