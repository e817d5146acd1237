package io.istio4j.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {

  @Test
  void plainTextIsReturnedAsIs() {
    String s = "destination.service=ratings.default.svc.cluster.local";
    assertThat(LogText.escape(s)).isSameAs(s);
  }

  @Test
  void lineBreaksCannotForgeALine() {
    assertThat(LogText.escape("v1\n2017-10-10 WARN forged\r\tx"))
        .isEqualTo("v1\\n2017-10-10 WARN forged\\r\\tx")
        .doesNotContain("\n", "\r", "\t");
  }

  @Test
  void otherNonPrintablesBecomeUnicodeEscapes() {
    assertThat(LogText.escape("a\u0000b\u001b[31mc\u0085d\u2028e\u202ef\u007f"))
        .isEqualTo("a\\u0000b\\u001b[31mc\\u0085d\\u2028e\\u202ef\\u007f");
  }

  @Test
  void aBackslashIsEscapedSoEscapesAreUnambiguous() {
    assertThat(LogText.escape("a\\nb")).isEqualTo("a\\\\nb");
  }

  @Test
  void printableUnicodeStays() {
    assertThat(LogText.escape("héllo wörld µs 日本 😀")).isEqualTo("héllo wörld µs 日本 😀");
  }

  @Test
  void longTextIsCutWithHowMuchWasLeftOut() {
    String s = "x".repeat(1000);
    assertThat(LogText.escape(s)).isEqualTo("x".repeat(256) + "...(744 more)");
    assertThat(LogText.escape("abcdef", 3)).isEqualTo("abc...(3 more)");
    assertThat(LogText.escape("a\nbcdef", 3)).isEqualTo("a\\nb...(4 more)");
  }

  @Test
  void nullAndObjectsUseTheirText() {
    assertThat(LogText.escape(null)).isEqualTo("null");
    assertThat(LogText.escape(42)).isEqualTo("42");
  }
}
