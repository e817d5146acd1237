package io.istio4j.adapters.list;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class IpAddressesTest {

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  @Test
  void readsDottedIpv4() {
    assertThat(IpAddresses.parse("10.0.255.1")).containsExactly(bytes(10, 0, 255, 1));
    assertThat(IpAddresses.parse("0.0.0.0")).containsExactly(bytes(0, 0, 0, 0));
  }

  @Test
  void readsIpv6TextWithCompressionAndAnIpv4Tail() {
    assertThat(IpAddresses.parse("2001:db8::1"))
        .containsExactly(bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    assertThat(IpAddresses.parse("::")).containsExactly(new byte[16]);
    assertThat(IpAddresses.parse("::1")).containsExactly(bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    assertThat(IpAddresses.parse("1:2:3:4:5:6:7:8"))
        .containsExactly(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
    assertThat(IpAddresses.parse("1:2:3:4:5:6:7::"))
        .containsExactly(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0));
    assertThat(IpAddresses.parse("FE80::ABCD:1.2.3.4"))
        .containsExactly(bytes(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 1, 2, 3, 4));
  }

  @Test
  void ipv4MappedIpv6IsTheIpv4AddressForLookups() {
    assertThat(IpAddresses.parse("::ffff:10.1.2.3")).containsExactly(bytes(10, 1, 2, 3));
    assertThat(IpAddresses.parseLiteral("::ffff:10.1.2.3")).hasSize(16);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1.2.3.-4", "1..2.3", "a.b.c.d",
      "10.1", "0x0a.0.0.1", " 1.2.3.4", "1.2.3.4 ", "localhost", "example.com",
      ":::", "1:::2", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
      "12345::", "g::", "fe80::1%eth0", "[::1]", "1.2.3.4::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "１.2.3.4"})
  void rejectsWhatIsNotAnAddressLiteral(String text) {
    assertThat(IpAddresses.parse(text)).as(text).isNull();
  }
}
