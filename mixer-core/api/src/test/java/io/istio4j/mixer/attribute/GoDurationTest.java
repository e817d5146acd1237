package io.istio4j.mixer.attribute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoDurationTest {

  @Test
  void parsesGoNotation() {
    assertThat(GoDuration.parse("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(GoDuration.parse("1.5s")).isEqualTo(Duration.ofMillis(1500));
    assertThat(GoDuration.parse("100ms")).isEqualTo(Duration.ofMillis(100));
    assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(GoDuration.parse("2h45m")).isEqualTo(Duration.ofMinutes(165));
    assertThat(GoDuration.parse("-1.5h")).isEqualTo(Duration.ofMinutes(-90));
    assertThat(GoDuration.parse("300us")).isEqualTo(Duration.ofNanos(300_000));
    assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
  }

  @Test
  void rejectsWhatGoRejects() {
    for (String bad : new String[] {"", "10", "s", "1x", "1s2", "--1s", "1 s"}) {
      assertThatThrownBy(() -> GoDuration.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("invalid duration: " + bad);
    }
  }

  @Test
  void formatsAsGoPrintsThem() {
    assertThat(GoDuration.format(Duration.ZERO)).isEqualTo("0s");
    assertThat(GoDuration.format(Duration.ofMillis(19))).isEqualTo("19ms");
    assertThat(GoDuration.format(Duration.ofMillis(1500))).isEqualTo("1.5s");
    assertThat(GoDuration.format(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(GoDuration.format(Duration.ofSeconds(90))).isEqualTo("1m30s");
    assertThat(GoDuration.format(Duration.ofHours(2))).isEqualTo("2h0m0s");
    assertThat(GoDuration.format(Duration.ofNanos(1500))).isEqualTo("1.5µs");
    assertThat(GoDuration.format(Duration.ofNanos(12))).isEqualTo("12ns");
    assertThat(GoDuration.format(Duration.ofMillis(-250))).isEqualTo("-250ms");
  }
}
