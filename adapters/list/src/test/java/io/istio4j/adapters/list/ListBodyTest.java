package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.adapters.list.config.Params.ListEntryType;
import org.junit.jupiter.api.Test;

class ListBodyTest {

  @Test
  void stringBodiesHoldOneEntryPerLineSkippingEmptyOnes() {
    assertThat(ListBody.entries("v1\r\n\r\n  v2  \n\nv3", ListEntryType.STRINGS)).containsExactly("v1", "v2", "v3");
    assertThat(ListBody.entries("", ListEntryType.REGEX)).isEmpty();
  }

  @Test
  void stringBodiesAreNeverReadAsYaml() {
    assertThat(ListBody.entries("whitelist: [a, b]\n- c", ListEntryType.STRINGS))
        .containsExactly("whitelist: [a, b]", "- c");
  }

  @Test
  void ipBodiesInUpstreamYamlFormat() {
    assertThat(ListBody.entries("whitelist: [\"10.0.0.0/8\", \"1.2.3.4\", \"2001:db8::/32\"]\n", ListEntryType.IP_ADDRESSES))
        .containsExactly("10.0.0.0/8", "1.2.3.4", "2001:db8::/32");
    assertThat(ListBody.entries("# ranges\nwhitelist:\n  - 10.0.0.0/8\n  - ::1\n", ListEntryType.IP_ADDRESSES))
        .containsExactly("10.0.0.0/8", "::1");
    assertThat(ListBody.entries("- 10.0.0.0/8\n- 1.2.3.4\n", ListEntryType.IP_ADDRESSES))
        .containsExactly("10.0.0.0/8", "1.2.3.4");
  }

  @Test
  void ipBodiesOneEntryPerLine() {
    assertThat(ListBody.entries("10.0.0.0/8\n::1\n\nfe80::/10\n", ListEntryType.IP_ADDRESSES))
        .containsExactly("10.0.0.0/8", "::1", "fe80::/10");
  }

  @Test
  void yamlOfAnotherShapeIsAnError() {
    assertThatThrownBy(() -> ListBody.entries("whitelisted: [\"1.2.3.4\"]", ListEntryType.IP_ADDRESSES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("without a whitelist");
    assertThatThrownBy(() -> ListBody.entries("whitelist: [[1]]", ListEntryType.IP_ADDRESSES))
        .hasMessage("whitelist item [1] is not a string");
    assertThatThrownBy(() -> ListBody.entries("whitelist: [\"1.2.3.4\"", ListEntryType.IP_ADDRESSES))
        .hasMessageStartingWith("the body is not YAML");
  }
}
