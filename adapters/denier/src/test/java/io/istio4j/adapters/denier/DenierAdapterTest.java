package io.istio4j.adapters.denier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DenierAdapterTest {

  static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: denier
      metadata: {name: handler, namespace: istio-system}
      spec:
        status:
          code: 7
          message: Not allowed
        validDuration: 30s
        validUseCount: 50
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: checknothing
      metadata: {name: denyrequest, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec:
        dimensions:
          source: source.service | "unknown"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: denyreviewsv3, namespace: istio-system}
      spec:
        match: destination.service == "ratings.default.svc.cluster.local" && source.labels["version"] == "v3"
        actions:
        - handler: handler.denier
          instances: [denyrequest.checknothing, requestcount.quota]
      """;

  private static final Map<String, Object> FROM_V3 = Map.of(
      "destination.service", "ratings.default.svc.cluster.local",
      "source.labels", Map.of("app", "reviews", "version", "v3"));
  private static final Map<String, Object> FROM_V2 = Map.of(
      "destination.service", "ratings.default.svc.cluster.local",
      "source.labels", Map.of("app", "reviews", "version", "v2"));

  @Test
  void deniesMatchingRequestsWithItsStatusAndCachingHints() {
    Scenario.builder()
        .adapters(new DenierAdapter())
        .config(CONFIG)
        .check(FROM_V3)
        .check(FROM_V2)
        .quota(FROM_V2, "RequestCount", 1)
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/denier.json"));
  }

  @Test
  void upstreamDefaultsAreFailedPreconditionForFiveSecondsAndAThousandUses() {
    String defaults = CONFIG.replace("""
        spec:
          status:
            code: 7
            message: Not allowed
          validDuration: 30s
          validUseCount: 50
        """, "spec: {}\n");
    try (TestMixer mixer = TestMixer.builder().adapters(new DenierAdapter()).config(defaults).start()) {
      TestMixer.CheckOutcome out = mixer.check(FROM_V3);
      assertThat(out.code()).isEqualTo(9);
      assertThat(out.validDuration()).isEqualTo("5s");
      assertThat(out.validUseCount()).isEqualTo(1000);
    }
  }

  @Test
  void badConfigIsRejectedNamingTheField() {
    String bad = CONFIG.replace("code: 7", "code: 42").replace("validUseCount: 50", "validUseCount: -1");
    assertThatThrownBy(() -> TestMixer.builder().adapters(new DenierAdapter()).config(bad).start())
        .hasMessageContaining("handler.denier.istio-system")
        .hasMessageContaining("status.code: 42 is not a google.rpc.Code (expected: 0-16)")
        .hasMessageContaining("validUseCount: -1 (expected: >= 0)");
  }
}
