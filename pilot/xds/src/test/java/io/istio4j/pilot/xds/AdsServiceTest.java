package io.istio4j.pilot.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdsServiceTest {
  private static Any any(String s) {
    return Any.pack(StringValue.of(s));
  }

  @Test
  void onlyResourcesNotSentBeforeAreKeptComparedByIdentityInPlace() {
    Any a = any("a");
    Any b = any("b");
    Any c = any("c");
    Any bAgain = any("b");
    // Same order, one replaced by a new instance (even an equal one: it is sent again, harmlessly).
    assertThat(AdsService.changed(List.of(a, b, c), List.of(a, bAgain, c))).containsExactly(bAgain);
    assertThat(AdsService.changed(List.of(a, b, c), List.of(a, b, c))).isEmpty();
  }

  @Test
  void differentSizesFallBackToAnIdentitySet() {
    Any a = any("a");
    Any b = any("b");
    Any c = any("c");
    Any d = any("d");
    assertThat(AdsService.changed(List.of(a, b), List.of(b, a, c))).containsExactly(c);
    assertThat(AdsService.changed(List.of(a, b, c), List.of(c, d))).containsExactly(d);
  }
}
