package io.istio4j.mixer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResolverTest {

  @Test
  void aNonStringIdentityIsNamedByItsAttributeTypeNotItsJavaClass() {
    assertThat(Resolver.kind(42L)).isEqualTo("an INT64");
    assertThat(Resolver.kind(Instant.EPOCH)).isEqualTo("a TIMESTAMP");
    assertThat(Resolver.kind(Duration.ZERO)).isEqualTo("a DURATION");
    assertThat(Resolver.kind(new byte[4])).isEqualTo("an IP_ADDRESS (bytes)");
    assertThat(Resolver.kind(Map.of())).isEqualTo("a STRING_MAP");
    assertThat(Resolver.kind(1.5)).doesNotContain("java").doesNotContain("Double");
  }
}
