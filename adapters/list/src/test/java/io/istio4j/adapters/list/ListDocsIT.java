package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.adapter.testkit.TestMixer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The example of docs/adapters/list.md loads and answers as the text says. */
class ListDocsIT {

  private static final String EXAMPLE_URL = "http://lists.istio-system.svc.cluster.local/blocked-clients.yaml";

  private static List<String> yamlBlocks(String doc, String section) {
    List<String> blocks = new ArrayList<>();
    int end = doc.indexOf("\n## ", doc.indexOf(section) + section.length());
    for (int i = doc.indexOf("```yaml\n", doc.indexOf(section)); i >= 0 && i < end; i = doc.indexOf("```yaml\n", i)) {
      int start = i + "```yaml\n".length();
      i = doc.indexOf("```", start);
      blocks.add(doc.substring(start, i));
      i += 3;
    }
    return blocks;
  }

  private static Map<String, Object> call(String version, String clientAddress) {
    return Map.of(
        "destination.service", "ratings.default.svc.cluster.local",
        "destination.labels", Map.of("app", "ratings"),
        "source.labels", Map.of("version", version),
        "request.headers", Map.of("x-envoy-external-address", clientAddress));
  }

  @Test
  void theDocumentedExampleLoadsAndAnswersAsDescribed() throws Exception {
    List<String> blocks = yamlBlocks(Files.readString(Path.of("../../docs/adapters/list.md")), "## Example");
    assertThat(blocks).hasSize(2);
    assertThat(blocks.get(0)).contains(EXAMPLE_URL);
    try (ListServer provider = new ListServer(blocks.get(1));
        TestMixer mixer = TestMixer.builder().adapters(new ListAdapter())
            .config(blocks.get(0).replace(EXAMPLE_URL, provider.url())).start()) {
      ListScenarioIT.awaitFirstFetch(mixer, call("v1", "198.51.100.9"));
      TestMixer.CheckOutcome allowed = mixer.check(call("v1", "192.0.2.1"));
      assertThat(allowed.code()).as(allowed.message()).isZero();
      assertThat(allowed.validDuration()).isEqualTo("1m0s");
      assertThat(allowed.validUseCount()).isEqualTo(1000);

      TestMixer.CheckOutcome v3 = mixer.check(call("v3", "192.0.2.1"));
      assertThat(v3.code()).isEqualTo(5);
      assertThat(v3.message()).isEqualTo("staticversion.listchecker.istio-system:v3 is not whitelisted");

      for (String blocked : List.of("198.51.100.9", "2001:db8:bad::1", "203.0.113.7")) {
        TestMixer.CheckOutcome denied = mixer.check(call("v1", blocked));
        assertThat(denied.code()).as(blocked).isEqualTo(7);
        assertThat(denied.message()).isEqualTo("blockedclients.listchecker.istio-system:" + blocked + " is blacklisted");
      }
      assertThat(provider.requests()).isEqualTo(1);
    }
  }

  @Test
  void sourceIpIsNotAListentryValueAsTheDocsSay() {
    try (TestMixer mixer = TestMixer.builder().adapters(new ListAdapter()).allowRejections().config("""
        apiVersion: config.istio.io/v1alpha2
        kind: listentry
        metadata: {name: sourceip, namespace: istio-system}
        spec:
          value: source.ip
        """).start()) {
      assertThat(String.join("\n", mixer.rejected())).contains("sourceip.listentry.istio-system")
          .contains("IP_ADDRESS want STRING");
    }
  }
}
