package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.attribute.GoDuration;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValueTextTest {

  @ParameterizedTest
  @CsvSource({
      "0s, PT0S",
      "1ns, PT0.000000001S",
      "999ns, PT0.000000999S",
      "1.5µs, PT0.0000015S",
      "25ms, PT0.025S",
      "1.000001ms, PT0.001000001S",
      "1s, PT1S",
      "1.5s, PT1.5S",
      "1m0s, PT60S",
      "1m30s, PT90S",
      "1h0m0s, PT1H",
      "26h3m4.005s, PT26H3M4.005S",
      "-25ms, PT-0.025S",
  })
  void durationsReadAsGoPrintsThem(String expected, Duration d) {
    assertThat(ValueText.duration(d)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 7, 1_000, 1_234_567, 999_999_999, 1_000_000_000, 59_999_999_999L, 3_600_000_000_001L,
      86_400_123_000_000L, Long.MAX_VALUE, -1_500_000_000L})
  void durationsAgreeWithMixersGoDurationFormat(long nanos) {
    Duration d = Duration.ofNanos(nanos);
    assertThat(ValueText.duration(d)).isEqualTo(GoDuration.format(d));
  }

  @Test
  void durationsBeyondGoRangeFallBackToSeconds() {
    assertThat(ValueText.duration(Duration.ofSeconds(Long.MAX_VALUE / 2))).isEqualTo((Long.MAX_VALUE / 2) + "s");
  }

  @Test
  void timesAreUtcWithMilliseconds() {
    assertThat(ValueText.time(Instant.parse("2017-09-01T12:00:00Z"))).isEqualTo("2017-09-01T12:00:00.000Z");
    assertThat(ValueText.time(Instant.parse("2017-09-01T12:00:00.123456789Z"))).isEqualTo("2017-09-01T12:00:00.123Z");
    assertThat(ValueText.time(Instant.MAX)).isEqualTo(Instant.MAX.toString());
  }

  @ParameterizedTest
  @CsvSource({
      "10.0.0.1, 10.0.0.1",
      "255.255.255.255, 255.255.255.255",
      "::ffff:192.168.1.2, 192.168.1.2",
      "::1, ::1",
      "::, ::",
      "2001:db8:0:0:0:0:0:1, 2001:db8::1",
      "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
      "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
      "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
      "fe80:0:0:0:abcd:ef01:0:0, fe80::abcd:ef01:0:0",
  })
  void ipAddressesReadAsGoPrintsThem(String address, String expected) throws Exception {
    byte[] bytes = InetAddress.getByName(address).getAddress();
    if (address.startsWith("::ffff:")) { // Java hands back the 4 bytes; test the 16-byte form
      bytes = new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff,
          bytes[0], bytes[1], bytes[2], bytes[3]};
    }
    assertThat(ValueText.bytes(bytes)).isEqualTo(expected);
  }

  @Test
  void bytesThatAreNoAddressReadAsBase64() {
    assertThat(ValueText.bytes(new byte[] {1, 2, 3})).isEqualTo("AQID");
    assertThat(ValueText.bytes(new byte[0])).isEmpty();
  }

  @Test
  void numbersHaveNoExponentAndNoTrailingZeros() {
    assertThat(ValueText.number(1.0)).isEqualTo("1");
    assertThat(ValueText.number(0.25)).isEqualTo("0.25");
    assertThat(ValueText.number(-3.5)).isEqualTo("-3.5");
    assertThat(ValueText.number(1e21)).isEqualTo("1000000000000000000000");
    assertThat(ValueText.number(1e-7)).isEqualTo("0.0000001");
    assertThat(ValueText.number(Double.NaN)).isEqualTo("NaN");
    assertThat(ValueText.number(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
    assertThat(ValueText.number(Double.NEGATIVE_INFINITY)).isEqualTo("-Inf");
  }
}
