package io.istio4j.adapters.stdio;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The zap notations LineFormat adds to the SDK's GoValues (which has its own tests). */
class LineFormatValuesTest {

  @Test
  void timesAreUtcWithMilliseconds() {
    assertThat(LineFormat.zapTime(Instant.parse("2017-09-01T12:00:00Z"))).isEqualTo("2017-09-01T12:00:00.000Z");
    assertThat(LineFormat.zapTime(Instant.parse("2017-09-01T12:00:00.123456789Z"))).isEqualTo("2017-09-01T12:00:00.123Z");
    assertThat(LineFormat.zapTime(Instant.MAX)).isEqualTo(Instant.MAX.toString());
  }

  @Test
  void addressesReadAsGoPrintsThemAndOtherBytesAsBase64() {
    assertThat(LineFormat.bytes(new byte[] {10, 0, 0, 1})).isEqualTo("10.0.0.1");
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 0, 0, 7};
    assertThat(LineFormat.bytes(mapped)).isEqualTo("10.0.0.7");
    assertThat(LineFormat.bytes(new byte[] {1, 2, 3})).isEqualTo("AQID");
    assertThat(LineFormat.bytes(new byte[0])).isEmpty();
  }
}
