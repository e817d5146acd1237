package io.istio4j.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoValuesTest {

  private static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
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
    assertThat(GoValues.duration(d)).isEqualTo(expected);
    assertThat(GoValues.parseDuration(expected)).isEqualTo(d);
  }

  @Test
  void durationsBeyondGoRangeAreClampedAsDurationpbDoes() {
    assertThat(GoValues.duration(Duration.ofSeconds(Long.MAX_VALUE / 2))).isEqualTo("2562047h47m16.854775807s");
    assertThat(GoValues.duration(Duration.ofSeconds(Long.MIN_VALUE / 2))).isEqualTo("-2562047h47m16.854775808s");
    assertThat(GoValues.duration(Duration.ofNanos(Long.MIN_VALUE))).isEqualTo("-2562047h47m16.854775808s");
  }

  @Test
  void durationsParseAsGoParsesThem() {
    assertThat(GoValues.parseDuration("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(GoValues.parseDuration("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(GoValues.parseDuration("100ms")).isEqualTo(Duration.ofMillis(100));
    assertThat(GoValues.parseDuration("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(GoValues.parseDuration("2h45m")).isEqualTo(Duration.ofMinutes(165));
    assertThat(GoValues.parseDuration("-1.5h")).isEqualTo(Duration.ofMinutes(-90));
    assertThat(GoValues.parseDuration("+.5s")).isEqualTo(Duration.ofMillis(500));
    assertThat(GoValues.parseDuration("1.s")).isEqualTo(Duration.ofSeconds(1));
    assertThat(GoValues.parseDuration("300us")).isEqualTo(Duration.ofNanos(300_000));
    assertThat(GoValues.parseDuration("3μs4µs")).isEqualTo(Duration.ofNanos(7_000));
    assertThat(GoValues.parseDuration("0")).isEqualTo(Duration.ZERO);
    assertThat(GoValues.parseDuration("-0")).isEqualTo(Duration.ZERO);
    assertThat(GoValues.parseDuration("2562047h47m16.854775807s")).isEqualTo(Duration.ofNanos(Long.MAX_VALUE));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1", "s", ".s", "1.2.3s", "1x", "1mss", "1h-2m", "-", "+", "1 s", "10", "2562047h47m16.854775808s",
      "9999999999999999999999999999h", "0x10s", "１s"})
  void whatIsNoGoDurationIsRejected(String text) {
    assertThat(GoValues.parseDurationOrNull(text)).as(text).isNull();
    assertThatThrownBy(() -> GoValues.parseDuration(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid duration: " + text);
  }

  @Test
  void aVeryLongDurationParsesInALoop() {
    // java.util.regex recursed per part; 100,000 parts must neither overflow the stack nor take long.
    assertThat(GoValues.parseDurationOrNull("1ns".repeat(100_000))).isEqualTo(Duration.ofNanos(100_000));
    assertThat(GoValues.parseDurationOrNull("1000h".repeat(100_000))).as("out of range").isNull();
  }

  @Test
  void timesPrintAsGoPrintsAUtcTime() {
    assertThat(GoValues.time(Instant.parse("2017-09-20T10:11:12.000000001Z"))).isEqualTo("2017-09-20 10:11:12.000000001 +0000 UTC");
    assertThat(GoValues.time(Instant.parse("0001-01-01T00:00:00Z"))).isEqualTo("0001-01-01 00:00:00 +0000 UTC");
    assertThat(GoValues.time(Instant.MAX)).isNotEmpty();
  }

  @Test
  void decimalsHaveNoExponentAndNoTrailingZeros() {
    assertThat(GoValues.decimal(1.0)).isEqualTo("1");
    assertThat(GoValues.decimal(0.25)).isEqualTo("0.25");
    assertThat(GoValues.decimal(-3.5)).isEqualTo("-3.5");
    assertThat(GoValues.decimal(1e21)).isEqualTo("1000000000000000000000");
    assertThat(GoValues.decimal(1e-7)).isEqualTo("0.0000001");
    assertThat(GoValues.decimal(Double.NaN)).isEqualTo("NaN");
    assertThat(GoValues.decimal(Double.POSITIVE_INFINITY)).isEqualTo("+Inf");
    assertThat(GoValues.decimal(Double.NEGATIVE_INFINITY)).isEqualTo("-Inf");
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
      "2001:DB8::A, 2001:db8::a",
  })
  void ipAddressesReadAsGoPrintsThem(String address, String expected) throws Exception {
    byte[] parsed = GoValues.parseIp(address);
    assertThat(GoValues.ip(parsed)).isEqualTo(expected);
    assertThat(parsed).hasSize(address.contains(":") ? 16 : 4);
    assertThat(GoValues.parseIp(expected)).satisfies(p -> assertThat(GoValues.ipEqual(p, parsed)).isTrue());
    byte[] java = InetAddress.getByName(address).getAddress(); // a literal: no lookup
    assertThat(GoValues.ipEqual(java, parsed)).isTrue();
    assertThat(GoValues.ip(java)).isEqualTo(expected);
  }

  @Test
  void ipv4AndItsMappedFormAreEqual() {
    assertThat(GoValues.ipEqual(bytes(10, 0, 0, 1), GoValues.parseIp("::ffff:10.0.0.1"))).isTrue();
    assertThat(GoValues.ipEqual(GoValues.parseIp("::ffff:10.0.0.1"), bytes(10, 0, 0, 1))).isTrue();
    assertThat(GoValues.ipEqual(bytes(10, 0, 0, 1), GoValues.parseIp("::10.0.0.1"))).isFalse();
    assertThat(GoValues.ipEqual(bytes(10, 0, 0, 1), bytes(10, 0, 0, 2))).isFalse();
    assertThat(GoValues.ip(new byte[0])).isEqualTo("<nil>");
  }

  @Test
  void ipv6TextParsesWithCompressionAndAnIpv4Tail() {
    assertThat(GoValues.parseIp("2001:db8::1"))
        .containsExactly(bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
    assertThat(GoValues.parseIp("::")).containsExactly(new byte[16]);
    assertThat(GoValues.parseIp("1:2:3:4:5:6:7:8"))
        .containsExactly(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8));
    assertThat(GoValues.parseIp("1:2:3:4:5:6:7::"))
        .containsExactly(bytes(0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0));
    assertThat(GoValues.parseIp("FE80::ABCD:1.2.3.4"))
        .containsExactly(bytes(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 1, 2, 3, 4));
    assertThat(GoValues.parseIp("::ffff:10.1.2.3")).hasSize(16);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "010.0.0.1", "10.0.0.01", "1.2.3.-4",
      "1..2.3", "a.b.c.d", "10.1", "0x0a.0.0.1", " 1.2.3.4", "1.2.3.4 ", "localhost", "example.com",
      ":::", "1:::2", "1::2::3", ":1::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::",
      "12345::", "g::", "fe80::1%eth0", "[::1]", "1.2.3.4::", "::1.2.3", "::ffff:010.0.0.1",
      "1:2:3:4:5:6:7:1.2.3.4", "１.2.3.4", "::１"})
  void rejectsWhatIsNotAnAddressLiteral(String text) {
    assertThat(GoValues.parseIp(text)).as(text).isNull();
  }
}
