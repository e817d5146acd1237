package io.istio4j.pilot.config;

import io.istio4j.pilot.model.ConfigKind;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Upstream's test data (copied from ../shared/conformance/upstream-pilot into test resources). */
final class UpstreamFiles {
  private UpstreamFiles() {}

  static Path dir(String name) {
    try {
      return Path.of(UpstreamFiles.class.getResource("/upstream-pilot/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The kind of a rules/ file, from its name (upstream-pilot/README.md). */
  static ConfigKind kindOf(String fileName) {
    if (fileName.startsWith("ingress-route")) {
      return ConfigKind.INGRESS_RULE;
    }
    if (fileName.equals("cb-policy.yaml") || fileName.equals("egress-rule-cb-policy.yaml")) {
      return ConfigKind.DESTINATION_POLICY;
    }
    if (fileName.equals("egress-rule.yaml")) {
      return ConfigKind.EGRESS_RULE;
    }
    if (fileName.contains("-route")) {
      return ConfigKind.ROUTE_RULE;
    }
    throw new IllegalArgumentException("no kind known for " + fileName);
  }
}
