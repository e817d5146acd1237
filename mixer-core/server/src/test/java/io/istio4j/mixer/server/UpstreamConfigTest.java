package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.ObjectStatus;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Snapshot;
import io.istio4j.mixer.runtime.SnapshotBuilder;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigObject;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.YamlDocuments;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio 0.3.0's own config files load with this build's adapters and templates: every object whose
 * adapter and templates are bundled loads without errors; the others are rejected saying their
 * adapter is not in this build, and nothing else breaks.
 */
class UpstreamConfigTest {

  private static final ClassLoader LOADER = UpstreamConfigTest.class.getClassLoader();
  private static final Templates TEMPLATES = Templates.load(LOADER);
  private static final Adapters ADAPTERS = Adapters.load(LOADER, TEMPLATES);

  /** Istio's install: the attribute vocabulary and the stock telemetry the Bookinfo rules build on. */
  static final List<String> INSTALL = List.of("attributes.yaml", "accesslog.yaml", "metrics.yaml",
      "tcpMetrics.yaml", "prometheus.yaml");

  /**
   * Sets of files that are loaded together upstream: mixer/testdata/config as a whole, and each
   * Bookinfo rule file on top of the install (the Bookinfo files redefine testdata objects, so the
   * two never load together).
   */
  static Stream<List<String>> files() {
    Stream<List<String>> testdata = Stream.of(List.of("attributes.yaml", "accesslog.yaml", "deny.yaml",
        "listcheck.yaml", "metrics.yaml", "prometheus.yaml", "quota.yaml", "source_ip_deny.yaml",
        "source_user_filter.yaml", "stackdriver.yaml", "tcpMetrics.yaml"));
    Stream<List<String>> bookinfo = Stream.of("mixer-rule-additional-telemetry.yaml", "mixer-rule-deny-label.yaml",
        "mixer-rule-deny-serviceaccount.yaml", "mixer-rule-ratings-denial.yaml", "mixer-rule-ratings-ratelimit.yaml")
        .map(f -> {
          List<String> set = new ArrayList<>(INSTALL);
          set.add(f);
          return set;
        });
    return Stream.concat(testdata, bookinfo);
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = LOADER.getResourceAsStream("upstream-config/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static boolean bundled(String kind) {
    return kind.equals("rule") || kind.equals("attributemanifest")
        || TEMPLATES.get(kind).isPresent() || ADAPTERS.get(kind).isPresent();
  }

  @ParameterizedTest
  @MethodSource("files")
  void loadsEveryBundledObjectAndNamesTheRest(List<String> files) throws IOException {
    List<ConfigObject> objects = new ArrayList<>();
    List<ConfigStore.Problem> problems = new ArrayList<>();
    for (String file : files) {
      YamlDocuments.parse(file, resource(file), "istio-system", objects, problems);
    }
    assertThat(problems).isEmpty();
    SnapshotBuilder builder = SnapshotBuilder.forValidation(TEMPLATES, ADAPTERS, RuntimeOptions.DEFAULTS);
    Snapshot snapshot = builder.build(new ConfigStore.Content(objects, problems), null, 1);
    Map<String, ObjectStatus> statuses = snapshot.statuses().stream()
        .collect(Collectors.toMap(ObjectStatus::fqn, s -> s));
    assertThat(statuses).hasSize(objects.size());
    for (ConfigObject o : objects) {
      ObjectStatus s = statuses.get(o.fqn());
      if (!bundled(o.kind())) {
        assertThat(s.error()).as(o.fqn()).startsWith("unknown kind '" + o.kind() + "': no adapter");
      } else if (o.kind().equals("rule") && !referencesOnlyBundledKinds(o)) {
        assertThat(s.state()).as(o.fqn()).isEqualTo(ObjectStatus.State.REJECTED);
        // The handler is in the same file (rejected: unknown kind) or in another sample file (not found).
        assertThat(s.error()).as(o.fqn()).containsPattern("is rejected: unknown kind|not found; no adapter");
      } else {
        assertThat(s.state()).as(o.fqn() + ": " + s.error()).isNotEqualTo(ObjectStatus.State.REJECTED);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static boolean referencesOnlyBundledKinds(ConfigObject rule) {
    for (Object a : (List<Object>) rule.spec().getOrDefault("actions", List.of())) {
      String handler = (String) ((Map<String, Object>) a).get("handler");
      if (!bundled(handler.split("\\.")[1])) {
        return false;
      }
    }
    return true;
  }
}
