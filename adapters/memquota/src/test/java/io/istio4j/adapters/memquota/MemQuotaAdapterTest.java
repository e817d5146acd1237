package io.istio4j.adapters.memquota;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemQuotaAdapterTest {

  /** Upstream's stock quota config (mixer-rule-ratings-ratelimit.yaml), with a limit small enough to hit. */
  static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: memquota
      metadata: {name: handler, namespace: istio-system}
      spec:
        quotas:
        - name: requestcount.quota.istio-system
          maxAmount: 5000
          validDuration: 1s
          overrides:
          - dimensions:
              destination: ratings
              source: reviews
            maxAmount: 2
            validDuration: 1s
          - dimensions:
              destination: ratings
            maxAmount: 100
            validDuration: 1s
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec:
        dimensions:
          source: source.labels["app"] | source.service | "unknown"
          destination: destination.labels["app"] | destination.service | "unknown"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: quota, namespace: istio-system}
      spec:
        actions:
        - handler: handler.memquota
          instances: [requestcount.quota]
      """;

  @Test
  void rateLimitsRatingsFromReviewsAsTheStockConfigSays() {
    Map<String, Object> reviewsToRatings = Map.of(
        "destination.service", "ratings.default.svc.cluster.local",
        "destination.labels", Map.of("app", "ratings"),
        "source.labels", Map.of("app", "reviews"));
    Scenario.builder()
        .adapters(new MemQuotaAdapter())
        .config(CONFIG)
        .quota(reviewsToRatings, "RequestCount", 1)
        .quota(reviewsToRatings, "RequestCount", 1)
        .quota(reviewsToRatings, "RequestCount", 1)
        .quota(Map.of("destination.service", "ratings.default.svc.cluster.local",
            "destination.labels", Map.of("app", "ratings"), "source.labels", Map.of("app", "productpage")),
            "RequestCount", 1)
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/memquota.json"));
  }

  @Test
  void aBoundInstanceWithoutAQuotaEntryIsRejected() {
    String missing = CONFIG.replace("name: requestcount.quota.istio-system", "name: other.quota.istio-system");
    assertThatThrownBy(() -> TestMixer.builder().adapters(new MemQuotaAdapter()).config(missing).start())
        .hasMessageContaining("quotas: no entry for quota instance 'requestcount.quota.istio-system'");
  }

  @Test
  void badLimitsAreRejectedNamingTheField() {
    String bad = CONFIG.replace("maxAmount: 5000", "maxAmount: -1").replace("validDuration: 1s\n  overrides",
        "validDuration: 1s\n  overrides");
    assertThatThrownBy(() -> TestMixer.builder().adapters(new MemQuotaAdapter())
            .config(bad.replace("spec:\n  quotas:", "spec:\n  minDeduplicationDuration: 0s\n  quotas:")).start())
        .hasMessageContaining("quotas[0].maxAmount: -1 (expected: >= 0)")
        .hasMessageContaining("minDeduplicationDuration: 0s (expected: > 0)");
  }
}
