package io.istio4j.adapters.prometheus;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromValueTest {

  @Test
  void numbersAndDurationsAreSampleValues() {
    assertThat(PromValue.of(5L)).isEqualTo(5.0);
    assertThat(PromValue.of(2.5)).isEqualTo(2.5);
    assertThat(PromValue.of(Duration.ofMillis(25))).isEqualTo(0.025);
    assertThat(PromValue.of(Duration.ofSeconds(3, 500_000_000))).isEqualTo(3.5);
  }

  @Test
  void numericStringsAreParsedAsGoParsesThem() {
    assertThat(PromValue.of("42")).isEqualTo(42.0);
    assertThat(PromValue.of("-1.5e3")).isEqualTo(-1500.0);
    assertThat(PromValue.of("+Inf")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(PromValue.of("-inf")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat(PromValue.of("0x1p-2")).isEqualTo(0.25);
  }

  @Test
  void whatIsNotANumberGivesNaN() {
    assertThat(PromValue.of("abc")).isNaN();
    assertThat(PromValue.of("")).isNaN();
    assertThat(PromValue.of(" 1")).isNaN();
    assertThat(PromValue.of("1d")).isNaN();
    assertThat(PromValue.of("Infinity")).isEqualTo(Double.POSITIVE_INFINITY); // Go accepts "infinity" in any case
    assertThat(PromValue.of(true)).isNaN();
    assertThat(PromValue.of(Instant.EPOCH)).isNaN();
    assertThat(PromValue.of(new byte[] {10, 0, 0, 1})).isNaN();
    assertThat(PromValue.of(Map.of("a", "b"))).isNaN();
  }
}
