package io.istio4j.mixer.expr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RegexLimitsTest {
  @Test
  void nestedRepeatsMultiplyingPast1000AreRefusedLikeGo() {
    assertThat(RegexLimits.problem("(a{1000}){1000}")).contains("1000000");
    assertThat(RegexLimits.problem("((a{10}){10}){11}")).contains("1100");
    assertThat(RegexLimits.problem("(?:x{2,}){501}")).contains("1002");
    assertThat(RegexLimits.problem("(a{0,50}b){30}")).contains("1500");
  }

  @Test
  void ordinaryPatternsPass() {
    assertThat(RegexLimits.problem("sco+do+")).isNull();
    assertThat(RegexLimits.problem("^/api/v[0-9]{1,3}/.*$")).isNull();
    assertThat(RegexLimits.problem("((a{10}){10}){10}")).isNull();
    assertThat(RegexLimits.problem("a{1000}b{1000}")).isNull(); // siblings add, they do not multiply
    assertThat(RegexLimits.problem("(a{1000})(b{1000})")).isNull();
  }

  @Test
  void bracesThatAreNotCountsAreLiterals() {
    assertThat(RegexLimits.problem("[{]{1000}")).isNull();
    assertThat(RegexLimits.problem("\\{1000}")).isNull();
    assertThat(RegexLimits.problem("(a\\{1000\\}){1000}")).isNull();
    assertThat(RegexLimits.problem("(\\Qa{1000}\\E){1000}")).isNull();
    assertThat(RegexLimits.problem("\\p{Greek}{5}")).isNull();
    assertThat(RegexLimits.problem("{x}")).isNull();
    assertThat(RegexLimits.problem("((((")).isNull(); // RE2J reports the syntax error itself
  }

  @Test
  void aClientPatternIsRefusedAtEvaluationWithoutCompiling() {
    PatternCache cache = new PatternCache(8);
    assertThatThrownBy(() -> cache.get("(a{1000}){1000}"))
        .isInstanceOf(EvaluationException.class)
        .hasMessageContaining("invalid regular expression")
        .hasMessageContaining("nested repetition");
  }
}
