package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class GoValuesTest {

  @Test
  void numbersAndDurationsAreSampleValues() {
    assertThat(GoValues.numeric(5L)).isEqualTo(5.0);
    assertThat(GoValues.numeric(2.5)).isEqualTo(2.5);
    assertThat(GoValues.numeric(Duration.ofMillis(25))).isEqualTo(0.025);
    assertThat(GoValues.numeric(Duration.ofSeconds(3, 500_000_000))).isEqualTo(3.5);
  }

  @Test
  void numericStringsAreParsedAsGoParsesThem() {
    assertThat(GoValues.numeric("42")).isEqualTo(42.0);
    assertThat(GoValues.numeric("-1.5e3")).isEqualTo(-1500.0);
    assertThat(GoValues.numeric("+Inf")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(GoValues.numeric("-inf")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(GoValues.numeric("0x1p-2")).isEqualTo(0.25);
  }

  @Test
  void whatIsNotANumberGivesNaN() {
    assertThat(GoValues.numeric("abc")).isNaN();
    assertThat(GoValues.numeric("")).isNaN();
    assertThat(GoValues.numeric(" 1")).isNaN();
    assertThat(GoValues.numeric("1d")).isNaN();
    assertThat(GoValues.numeric("Infinity")).isEqualTo(Double.POSITIVE_INFINITY); // Go accepts "infinity" in any case
    assertThat(GoValues.numeric(true)).isNaN();
    assertThat(GoValues.numeric(Instant.EPOCH)).isNaN();
    assertThat(GoValues.numeric(new byte[] {10, 0, 0, 1})).isNaN();
    assertThat(GoValues.numeric(Map.of("a", "b"))).isNaN();
  }

  @Test
  void floatsArePrintedAsGoShortestG() {
    assertThat(GoValues.float64(0)).isEqualTo("0");
    assertThat(GoValues.float64(1)).isEqualTo("1");
    assertThat(GoValues.float64(-3)).isEqualTo("-3");
    assertThat(GoValues.float64(0.005)).isEqualTo("0.005");
    assertThat(GoValues.float64(2.5)).isEqualTo("2.5");
    assertThat(GoValues.float64(0.0001)).isEqualTo("0.0001");
    assertThat(GoValues.float64(0.00001)).isEqualTo("1e-05");
    assertThat(GoValues.float64(123456)).isEqualTo("123456");
    assertThat(GoValues.float64(123456.5)).isEqualTo("123456.5");
    assertThat(GoValues.float64(1e6)).isEqualTo("1e+06");
    assertThat(GoValues.float64(1e8)).isEqualTo("1e+08");
    assertThat(GoValues.float64(1234567)).isEqualTo("1.234567e+06");
    assertThat(GoValues.float64(1e21)).isEqualTo("1e+21");
    assertThat(GoValues.float64(1.5e-300)).isEqualTo("1.5e-300");
    assertThat(GoValues.float64(0.30000000000000004)).isEqualTo("0.30000000000000004");
    assertThat(GoValues.float64(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
    assertThat(GoValues.float64(Double.NEGATIVE_INFINITY)).isEqualTo("-Inf");
    assertThat(GoValues.float64(Double.NaN)).isEqualTo("NaN");
  }

  @Test
  void durationsArePrintedAsGoDurations() {
    assertThat(GoValues.duration(Duration.ZERO)).isEqualTo("0s");
    assertThat(GoValues.duration(Duration.ofNanos(999))).isEqualTo("999ns");
    assertThat(GoValues.duration(Duration.ofNanos(1500))).isEqualTo("1.5µs");
    assertThat(GoValues.duration(Duration.ofMillis(25))).isEqualTo("25ms");
    assertThat(GoValues.duration(Duration.ofNanos(1_500_000))).isEqualTo("1.5ms");
    assertThat(GoValues.duration(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(GoValues.duration(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(GoValues.duration(Duration.ofMinutes(2))).isEqualTo("2m0s");
    assertThat(GoValues.duration(Duration.ofHours(1))).isEqualTo("1h0m0s");
    assertThat(GoValues.duration(Duration.ofSeconds(3723, 1))).isEqualTo("1h2m3.000000001s");
    assertThat(GoValues.duration(Duration.ofMillis(-25))).isEqualTo("-25ms");
    assertThat(GoValues.duration(Duration.ofSeconds(Long.MAX_VALUE))).isEqualTo("2562047h47m16.854775807s");
  }

  @Test
  void labelValuesArePrintedAsGoPercentV() {
    assertThat(GoValues.format("reviews.default.svc.cluster.local")).isEqualTo("reviews.default.svc.cluster.local");
    assertThat(GoValues.format(200L)).isEqualTo("200");
    assertThat(GoValues.format(0.5)).isEqualTo("0.5");
    assertThat(GoValues.format(200.0)).isEqualTo("200");
    assertThat(GoValues.format(true)).isEqualTo("true");
    assertThat(GoValues.format(false)).isEqualTo("false");
    assertThat(GoValues.format(Duration.ofMillis(25))).isEqualTo("25ms");
    assertThat(GoValues.format(Instant.parse("2017-09-20T10:11:12.500Z"))).isEqualTo("2017-09-20 10:11:12.5 +0000 UTC");
    assertThat(GoValues.format(Instant.parse("2017-09-20T10:11:12Z"))).isEqualTo("2017-09-20 10:11:12 +0000 UTC");
    Map<String, String> headers = new TreeMap<>(Map.of("b", "2", "a", "1"));
    assertThat(GoValues.format(headers)).isEqualTo("map[a:1 b:2]");
  }

  @Test
  void ipAddressesArePrintedAsText() {
    assertThat(GoValues.format(new byte[] {10, 0, 0, 1})).isEqualTo("10.0.0.1");
    assertThat(GoValues.format(new byte[] {(byte) 192, (byte) 168, 1, (byte) 254})).isEqualTo("192.168.1.254");
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    mapped[12] = 10;
    mapped[15] = 7;
    assertThat(GoValues.format(mapped)).isEqualTo("10.0.0.7");
    byte[] loopback = new byte[16];
    loopback[15] = 1;
    assertThat(GoValues.format(loopback)).isEqualTo("::1");
    assertThat(GoValues.format(new byte[16])).isEqualTo("::");
    byte[] doc = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assertThat(GoValues.format(doc)).isEqualTo("2001:db8::1");
    byte[] middle = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1};
    assertThat(GoValues.format(middle)).isEqualTo("2001:db8:1::1:0:1");
    byte[] single = {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    assertThat(GoValues.format(single)).isEqualTo("2001:db8:0:1:1:1:1:1");
    assertThat(GoValues.format(new byte[] {1, 2, 3})).isEqualTo("?010203");
  }
}
