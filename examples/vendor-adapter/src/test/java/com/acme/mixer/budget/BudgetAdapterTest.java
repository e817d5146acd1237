package com.acme.mixer.budget;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BudgetAdapterTest {

  private static final Map<String, Object> FROM_REVIEWS = Map.of(
      "source.service", "reviews.default.svc.cluster.local",
      "destination.service", "ratings.default.svc.cluster.local");
  private static final Map<String, Object> FROM_PRODUCTPAGE = Map.of(
      "source.service", "productpage.default.svc.cluster.local",
      "destination.service", "ratings.default.svc.cluster.local");

  /** Each source has its own budget of 3 per hour; an allocation that does not fit gets nothing. */
  @Test
  void grantsEachSourceItsOwnBudget() {
    Scenario.builder()
        .adapters(new BudgetAdapter())
        .configFile(Path.of("src/test/resources/budget.yaml"))
        .quota(FROM_REVIEWS, "RequestCount", 2)
        .quota(FROM_REVIEWS, "RequestCount", 2)
        .quota(FROM_PRODUCTPAGE, "RequestCount", 2)
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/budget.json"));
  }

  @Test
  void aZeroMaxAmountIsRejected() throws IOException {
    String config = Files.readString(Path.of("src/test/resources/budget.yaml")).replace("maxAmount: 3", "maxAmount: 0");
    try (TestMixer mixer = TestMixer.builder().adapters(new BudgetAdapter()).config(config).allowRejections().start()) {
      assertThat(mixer.rejected()).anySatisfy(line -> assertThat(line).contains("maxAmount: must be > 0, got 0"));
    }
  }
}
