package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.ConfigErrors;
import io.istio4j.adapter.testkit.TestEnv;
import io.istio4j.adapter.testkit.TestMixer;
import io.istio4j.adapters.list.config.Params;
import io.istio4j.adapters.list.config.Params.ListEntryType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class ListBuilderTest {

  private static Params.Builder defaults() {
    return ListAdapter.DEFAULT_CONFIG.toBuilder();
  }

  private static ConfigErrors validate(Params params) {
    ListBuilder b = new ListBuilder();
    b.setAdapterConfig(params);
    return b.validate();
  }

  private static List<String> fields(ConfigErrors errors) {
    return errors.errors().stream().map(ConfigErrors.ConfigError::field).toList();
  }

  private static Duration seconds(long s, int nanos) {
    return Duration.newBuilder().setSeconds(s).setNanos(nanos).build();
  }

  @Test
  void infoNamesTheKindTemplateAndUpstreamDefaults() {
    AdapterInfo info = new ListAdapter().info();
    assertThat(info.name()).isEqualTo("listchecker");
    assertThat(info.supportedTemplates()).containsExactly("listentry");
    assertThat(info.blocking()).isFalse();
    Params d = (Params) info.defaultConfig();
    assertThat(d.getRefreshInterval().getSeconds()).isEqualTo(60);
    assertThat(d.getTtl().getSeconds()).isEqualTo(300);
    assertThat(d.getCachingInterval().getSeconds()).isEqualTo(300);
    assertThat(d.getCachingUseCount()).isEqualTo(10_000);
    assertThat(d.getEntryType()).isEqualTo(ListEntryType.STRINGS);
    assertThat(d.getBlacklist()).isFalse();
    assertThat(info.builderFactory().get()).isInstanceOf(ListBuilder.class);
  }

  @Test
  void theAdapterIsFoundByServiceLoader() {
    assertThat(ServiceLoader.load(Adapter.class).stream().map(p -> p.type().getName()))
        .contains(ListAdapter.class.getName());
  }

  @Test
  void defaultsAndAProviderUrlAreValid() {
    assertThat(validate(defaults().build()).isEmpty()).isTrue();
    assertThat(validate(defaults().setProviderUrl("https://lists.example.com:8443/v?x=1").build()).isEmpty()).isTrue();
    assertThat(validate(defaults().setProviderUrl("http://127.0.0.1/list")
        .setRefreshInterval(seconds(1, 0)).setTtl(seconds(1, 0)).build()).isEmpty()).isTrue();
  }

  @Test
  void providerUrlNeedsAnHttpSchemeAndAHost() {
    for (String url : List.of("lists.example.com/list", "ftp://lists.example.com/list", "http:///list",
        "http://", "not a url", "file:/etc/hosts")) {
      ConfigErrors errors = validate(defaults().setProviderUrl(url).build());
      assertThat(errors.toString()).as(url)
          .isEqualTo("providerUrl: " + url + " (expected: an http or https URL with a host, for example "
              + "https://lists.example.com/versions.txt)");
    }
  }

  @Test
  void refreshIntervalIsAtLeastOneSecondAndTtlAtLeastTheRefreshInterval() {
    ConfigErrors errors = validate(defaults().setProviderUrl("http://lists/l")
        .setRefreshInterval(seconds(0, 500_000_000)).setTtl(seconds(0, 100_000_000)).build());
    assertThat(errors.toString()).isEqualTo(
        "refreshInterval: 0.5s (expected: >= 1s); ttl: 0.1s (expected: >= refreshInterval 0.5s)");
    errors = validate(defaults().setProviderUrl("http://lists/l").setRefreshInterval(seconds(600, 0)).build());
    assertThat(errors.toString()).isEqualTo("ttl: 5m (expected: >= refreshInterval 10m)");
  }

  @Test
  void withoutAProviderUrlRefreshAndTtlAreNotUsedSoNotChecked() {
    assertThat(validate(defaults().setRefreshInterval(seconds(0, 0)).setTtl(seconds(0, 0)).build()).isEmpty()).isTrue();
  }

  @Test
  void cachingValuesAreNotNegative() {
    ConfigErrors errors = validate(defaults().setCachingInterval(seconds(-1, 0)).setCachingUseCount(-5).build());
    assertThat(errors.toString()).isEqualTo("cachingInterval: -1s (expected: >= 0s); cachingUseCount: -5 (expected: >= 0)");
    assertThat(validate(defaults().setCachingInterval(seconds(0, 0)).setCachingUseCount(0).build()).isEmpty()).isTrue();
  }

  @Test
  void ipOverridesMustBeRanges() {
    ConfigErrors errors = validate(defaults().setEntryType(ListEntryType.IP_ADDRESSES)
        .addOverrides("10.0.0.0/8").addOverrides("10.0.0.0/33").addOverrides("::1").addOverrides("host.example.com")
        .build());
    assertThat(fields(errors)).containsExactly("overrides[1]", "overrides[3]");
    assertThat(errors.errors().get(0).message()).startsWith("10.0.0.0/33 is not an IP address or CIDR range");
  }

  @Test
  void regexOverridesMustCompile() {
    ConfigErrors errors = validate(defaults().setEntryType(ListEntryType.REGEX)
        .addOverrides("^v[12]$").addOverrides("(?<name").build());
    assertThat(fields(errors)).containsExactly("overrides[1]");
    // the same text is a fine STRINGS entry
    assertThat(validate(defaults().addOverrides("(?<name").build()).isEmpty()).isTrue();
  }

  @Test
  void anUnknownEntryTypeIsNamed() {
    ConfigErrors errors = validate(defaults().setEntryTypeValue(9).build());
    assertThat(errors.toString()).isEqualTo(
        "entryType: 9 (expected: STRINGS, CASE_INSENSITIVE_STRINGS, IP_ADDRESSES or REGEX)");
  }

  @Test
  void newHandlerRejectsAnInvalidConfigListingTheErrors() {
    assertThatThrownBy(() -> ListAdapter.newHandler(defaults().setCachingUseCount(-1).build(), TestEnv.create()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid listchecker config: cachingUseCount: -1 (expected: >= 0)");
  }

  @Test
  void mixerRejectsAnInvalidHandlerNamingTheField() {
    try (TestMixer mixer = TestMixer.builder().adapters(new ListAdapter()).allowRejections().config("""
        apiVersion: config.istio.io/v1alpha2
        kind: listchecker
        metadata: {name: ips, namespace: istio-system}
        spec:
          entryType: IP_ADDRESSES
          overrides: ["10.0.0.0/8", "10.0.0.300"]
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: listentry
        metadata: {name: ip, namespace: istio-system}
        spec:
          value: request.headers["x-forwarded-for"] | ""
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: ips, namespace: istio-system}
        spec:
          actions:
          - handler: ips.listchecker
            instances: [ip.listentry]
        """).start()) {
      assertThat(String.join("\n", mixer.rejected()))
          .contains("ips.listchecker.istio-system")
          .contains("overrides[1]: 10.0.0.300 is not an IP address or CIDR range");
    }
  }

  @Test
  void upstreamListcheckConfigLoadsAndChecks() {
    try (TestMixer mixer = TestMixer.builder().adapters(new ListAdapter())
        .configFile(Path.of("src/test/resources/upstream/listcheck.yaml")).start()) {
      TestMixer.CheckOutcome allowed = mixer.check(Map.of("destination.service", "ratings.default.svc.cluster.local", "destination.labels", Map.of("app", "ratings"),
          "source.labels", Map.of("version", "v1")));
      assertThat(allowed.code()).as(allowed.message()).isZero();
      TestMixer.CheckOutcome denied = mixer.check(Map.of("destination.service", "ratings.default.svc.cluster.local", "destination.labels", Map.of("app", "ratings"),
          "source.labels", Map.of("version", "v3")));
      assertThat(denied.code()).isEqualTo(5);
      assertThat(denied.message()).endsWith("v3 is not whitelisted");
      assertThat(denied.validDuration()).isEqualTo("5m0s");
      assertThat(denied.validUseCount()).isEqualTo(10_000);
      // another destination: the rule does not match, nothing is checked
      assertThat(mixer.check(Map.of("destination.service", "ratings.default.svc.cluster.local", "destination.labels", Map.of("app", "reviews"),
          "source.labels", Map.of("version", "v3"))).code()).isZero();
    }
  }
}
