package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IpRangeTest {

  @Test
  void bareAddressesAreSlash32AndSlash128() {
    assertThat(IpRange.parse("1.2.3.4").prefixLength()).isEqualTo(32);
    assertThat(IpRange.parse("2001:db8::1").prefixLength()).isEqualTo(128);
  }

  @Test
  void cidrKeepsItsPrefixLength() {
    IpRange r = IpRange.parse("10.0.0.0/8");
    assertThat(r.address()).containsExactly(10, 0, 0, 0);
    assertThat(r.prefixLength()).isEqualTo(8);
    assertThat(IpRange.parse("::/0").prefixLength()).isZero();
  }

  @Test
  void ipv4MappedRangesBecomeIpv4Ranges() {
    IpRange r = IpRange.parse("::ffff:10.0.0.0/104");
    assertThat(r.address()).containsExactly(10, 0, 0, 0);
    assertThat(r.prefixLength()).isEqualTo(8);
    assertThat(IpRange.parse("::ffff:0:0/64").address()).hasSize(16);
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/ 8",
      "10.0.0/8", "::/129", "::/1000", "/8", "10.0.0.0/a"})
  void rejectsBadRanges(String text) {
    assertThat(IpRange.parse(text)).as(text).isNull();
  }
}
