package com.acme.mixer.blocklist;

import static org.assertj.core.api.Assertions.assertThat;

import com.acme.mixer.blocklist.config.Params;
import io.istio4j.adapter.CheckResult;
import io.istio4j.adapter.Status;
import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.template.listentry.ListEntryInstance;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BlocklistAdapterTest {

  private static final Map<String, Object> BAD_BOT = Map.of(
      "destination.service", "reviews.default.svc.cluster.local", "request.useragent", "BadBot/1.0");
  private static final Map<String, Object> BROWSER = Map.of(
      "destination.service", "reviews.default.svc.cluster.local", "request.useragent", "Mozilla/5.0");

  /** Through Mixer: the rule, the instance's expression and the answer the client gets. */
  @Test
  void deniesBlockedUserAgentsWithTheirCachingHints() {
    Scenario.builder()
        .adapters(new BlocklistAdapter())
        .configFile(Path.of("src/test/resources/blocklist.yaml"))
        .check(BAD_BOT)
        .check(BROWSER)
        .call(mixer -> Map.of(
            "denied", mixer.counterValue("acme_blocklist_checks", "result", "denied"),
            "allowed", mixer.counterValue("acme_blocklist_checks", "result", "allowed")))
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/blocklist.json"));
  }

  /** The handler alone, with the test kit's Env: metrics can be read back without Mixer. */
  @Test
  void countsEveryAnswer() throws Exception {
    BlocklistBuilder builder = new BlocklistBuilder();
    builder.setAdapterConfig(Params.newBuilder().addBlocked("scraper").build());
    assertThat(builder.validate().isEmpty()).isTrue();
    TestEnv env = TestEnv.create();
    try (BlocklistHandler handler = (BlocklistHandler) builder.build(env)) {
      CheckResult denied = handler.handleListEntry(new ListEntryInstance("useragent.listentry.istio-system", "scraper"));
      assertThat(denied.status().code()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(env.counterValue("acme_blocklist_checks", "result", "denied")).isEqualTo(1);
      assertThat(env.counterValue("acme_blocklist_checks", "result", "allowed")).isZero();
    }
  }

  @Test
  void anEmptyEntryIsAConfigErrorNamingIt() {
    BlocklistBuilder builder = new BlocklistBuilder();
    builder.setAdapterConfig(Params.newBuilder().addBlocked("scraper").addBlocked("").build());
    assertThat(builder.validate().toString()).contains("blocked[1]: must not be empty");
  }
}
