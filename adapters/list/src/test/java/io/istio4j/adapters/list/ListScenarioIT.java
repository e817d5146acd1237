package io.istio4j.adapters.list;

import io.istio4j.adapter.testkit.Scenario;
import io.istio4j.adapter.testkit.TestMixer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A whitelist of versions (overrides only, as in upstream's listcheck.yaml) and a blacklist of IP
 * ranges fetched from a local provider, both on one rule, through the test kit's Mixer.
 */
class ListScenarioIT {

  private static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: listchecker
      metadata: {name: versions, namespace: istio-system}
      spec:
        overrides: ["v1", "v2"]
        blacklist: false
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listchecker
      metadata: {name: blockedips, namespace: istio-system}
      spec:
        providerUrl: PROVIDER_URL
        refreshInterval: 30s
        ttl: 120s
        cachingInterval: 10s
        cachingUseCount: 50
        entryType: IP_ADDRESSES
        overrides: ["192.168.1.7"]
        blacklist: true
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listentry
      metadata: {name: appversion, namespace: istio-system}
      spec:
        value: source.labels["version"] | "unknown"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: listentry
      metadata: {name: clientip, namespace: istio-system}
      spec:
        value: request.headers["x-forwarded-for"] | "0.0.0.0"
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: ratingsclients, namespace: istio-system}
      spec:
        match: destination.service == "ratings.default.svc.cluster.local"
        actions:
        - handler: versions.listchecker
          instances: [appversion.listentry]
        - handler: blockedips.listchecker
          instances: [clientip.listentry]
      """;

  private static final int UNAVAILABLE = 14;

  private static Map<String, Object> request(String version, String clientIp) {
    return Map.of(
        "destination.service", "ratings.default.svc.cluster.local",
        "source.labels", Map.of("version", version),
        "request.headers", Map.of("x-forwarded-for", clientIp));
  }

  /**
   * Waits until a value only the fetched list holds is answered from it: building a handler only
   * starts its first fetch, and until that ends such values are UNAVAILABLE.
   */
  static String awaitFirstFetch(TestMixer mixer, Map<String, Object> listedOnlyInTheFetchedList) {
    TestMixer.CheckOutcome outcome = mixer.check(listedOnlyInTheFetchedList);
    for (int i = 0; i < 1000 && outcome.code() == UNAVAILABLE; i++) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      outcome = mixer.check(listedOnlyInTheFetchedList);
    }
    if (outcome.code() == UNAVAILABLE) {
      throw new AssertionError("the first fetch never ended: " + outcome.message());
    }
    return "the fetched list is in use";
  }

  @Test
  void whitelistAndBlacklistOnOneRule() {
    try (ListServer provider = new ListServer("whitelist: [\"10.0.0.0/8\", \"2001:db8::/32\"]\n")) {
      Scenario.builder()
          .adapters(new ListAdapter())
          .config(CONFIG.replace("PROVIDER_URL", provider.url()))
          .call(mixer -> awaitFirstFetch(mixer, request("v2", "10.1.2.3")))
          .check(request("v1", "172.16.0.1"))
          .check(request("v3", "172.16.0.1"))
          .check(request("v2", "10.1.2.3"))
          .check(request("v2", "2001:db8::7"))
          .check(request("v2", "192.168.1.7"))
          .check(request("v2", "unknown"))
          .check(Map.of("destination.service", "reviews.default.svc.cluster.local",
              "source.labels", Map.of("version", "v9")))
          .state(() -> Map.of("providerRequests", provider.requests()))
          .run()
          .assertMatchesGolden(Path.of("src/test/resources/golden/list.json"));
    }
  }
}
