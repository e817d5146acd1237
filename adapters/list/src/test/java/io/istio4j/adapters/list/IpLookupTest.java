package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Addresses are parsed by the SDK's GoValues (tested there); the lists look IPv4-mapped ones up as IPv4. */
class IpLookupTest {

  @Test
  void ipv4MappedIpv6IsTheIpv4AddressForLookups() {
    assertThat(IpRange.lookupAddress("::ffff:10.1.2.3")).containsExactly(10, 1, 2, 3);
    assertThat(IpRange.lookupAddress("10.1.2.3")).containsExactly(10, 1, 2, 3);
    assertThat(IpRange.lookupAddress("2001:db8::1")).hasSize(16);
  }

  @Test
  void leadingZerosAreNoAddressAsInGo117() {
    assertThat(IpRange.lookupAddress("010.0.0.1")).isNull();
    assertThat(IpRange.parse("010.0.0.0/8")).isNull();
  }
}
