package io.istio4j.adapters.noop;

import io.istio4j.adapter.testkit.Scenario;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NoopAdapterTest {

  static final String CONFIG = """
      apiVersion: config.istio.io/v1alpha2
      kind: noop
      metadata: {name: handler, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: checknothing
      metadata: {name: nothing, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: quota
      metadata: {name: requestcount, namespace: istio-system}
      spec: {}
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: metric
      metadata: {name: requestcount, namespace: istio-system}
      spec:
        value: "1"
        dimensions:
          code: response.code | 200
        monitored_resource_type: '"UNSPECIFIED"'
      ---
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: everything, namespace: istio-system}
      spec:
        actions:
        - handler: handler.noop
          instances: [nothing.checknothing, requestcount.quota, requestcount.metric]
      """;

  @Test
  void allowsEverythingGrantsEverythingAndAcceptsReports() {
    Map<String, Object> request = Map.of("destination.service", "ratings.default.svc.cluster.local");
    Scenario.builder()
        .adapters(new NoopAdapter())
        .config(CONFIG)
        .check(request)
        .quota(request, "RequestCount", 25)
        .report(Map.of("destination.service", "ratings.default.svc.cluster.local", "response.code", 503L))
        .run()
        .assertMatchesGolden(Path.of("src/test/resources/golden/noop.json"));
  }
}
