package io.istio4j.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SPIFFE ID parsing against the rules of the SPIFFE standard (spec C1), as properties: each
 * property runs over {@value #CASES} inputs generated from a fixed seed per case (the seed is the
 * test's parameter, so a failure names the input that reproduces it).
 */
class SpiffeIdTest {

  private static final int CASES = 500;
  private static final String TD_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789.-_";
  private static final String SEGMENT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";
  private static final char[] BAD_TD_CHARS = {'A', 'Z', ':', '@', '%', '?', '#', ' ', '\u00e9', '+', '~', '\n', '\\'};
  private static final char[] BAD_SEGMENT_CHARS = {':', '@', '%', '?', '#', ' ', '\u00e9', '+', '~', '!', '*', '=',
      '\n', '\\'};

  static Stream<Long> seeds() {
    return IntStream.range(0, CASES).mapToObj(i -> 0x5eed0000L + i);
  }

  private static String string(Random r, String alphabet, int min, int max) {
    int n = min + r.nextInt(max - min + 1);
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  private static String trustDomain(Random r) {
    return string(r, TD_CHARS, 1, 40);
  }

  private static String segment(Random r) {
    String s;
    do {
      s = string(r, SEGMENT_CHARS, 1, 20);
    } while (s.equals(".") || s.equals(".."));
    return s;
  }

  private static String path(Random r) {
    int n = r.nextInt(7);
    List<String> segments = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      segments.add(segment(r));
    }
    return segments.isEmpty() ? "" : "/" + String.join("/", segments);
  }

  private static String validId(Random r) {
    return "spiffe://" + trustDomain(r) + path(r);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void everyValidIdParsesAndPrintsBackUnchanged(long seed) {
    String id = validId(new Random(seed));
    SpiffeId parsed = SpiffeId.parse(id);
    assertThat(parsed.toString()).as(id).isEqualTo(id);
    assertThat(SpiffeId.parse(parsed.toString())).isEqualTo(parsed);
    assertThat(parsed.isWorkload()).isEqualTo(!parsed.path().isEmpty());
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void aCharacterOutsideTheTrustDomainAlphabetIsRejected(long seed) {
    Random r = new Random(seed);
    String td = trustDomain(r);
    int at = r.nextInt(td.length() + 1);
    String broken = td.substring(0, at) + BAD_TD_CHARS[r.nextInt(BAD_TD_CHARS.length)] + td.substring(at);
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://" + broken + "/ns/a/sa/b")).as(broken)
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trust domain");
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void aCharacterOutsideTheSegmentAlphabetIsRejected(long seed) {
    Random r = new Random(seed);
    String segment = segment(r);
    int at = r.nextInt(segment.length() + 1);
    String broken = segment.substring(0, at) + BAD_SEGMENT_CHARS[r.nextInt(BAD_SEGMENT_CHARS.length)]
        + segment.substring(at);
    String id = "spiffe://example.org" + path(r) + "/" + broken;
    assertThatThrownBy(() -> SpiffeId.parse(id)).as(id).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("path character");
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void emptyAndDotSegmentsAndTrailingSlashesAreRejected(long seed) {
    Random r = new Random(seed);
    String p = path(r);
    String bad = switch (r.nextInt(4)) {
      case 0 -> p + "/";
      case 1 -> p + "//" + segment(r);
      case 2 -> p + "/.";
      default -> p + "/../" + segment(r);
    };
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://example.org" + bad)).as(bad)
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void anyOtherSchemeIsRejected(long seed) {
    Random r = new Random(seed);
    String scheme = string(r, "abcdefghijklmnopqrstuvwxyzS", 0, 8);
    if (scheme.equals("spiffe")) {
      return;
    }
    String other = scheme + validId(r).substring("spiffe".length());
    assertThatThrownBy(() -> SpiffeId.parse(other)).as(other).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("scheme");
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void idsLongerThan2048BytesAreRejected(long seed) {
    Random r = new Random(seed);
    String prefix = "spiffe://example.org/";
    String id = prefix + "a".repeat(2049 + r.nextInt(3000) - prefix.length());
    assertThatThrownBy(() -> SpiffeId.parse(id)).hasMessageContaining("2048");
  }

  @Test
  void anIdOfExactly2048BytesIsAccepted() {
    String prefix = "spiffe://example.org/";
    String id = prefix + "a".repeat(2048 - prefix.length());
    assertThat(SpiffeId.parse(id).toString()).hasSize(2048);
  }

  @Test
  void trustDomainIsAtMost255Bytes() {
    assertThat(SpiffeId.parse("spiffe://" + "a".repeat(255)).trustDomain()).hasSize(255);
    assertThatThrownBy(() -> SpiffeId.parse("spiffe://" + "a".repeat(256))).hasMessageContaining("255");
  }

  @Test
  void portsUserInfoQueriesAndFragmentsAreRejected() {
    for (String bad : List.of("spiffe://example.org:8080/a", "spiffe://user@example.org/a", "spiffe://example.org/a?x=1",
        "spiffe://example.org/a#f", "spiffe://example.org/a%20b", "spiffe:///a", "spiffe://", "SPIFFE://example.org/a",
        "spiffe://Example.org/a")) {
      assertThatThrownBy(() -> SpiffeId.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("SPIFFE ID");
    }
  }

  @Test
  void serviceAccountIdsRoundTrip() {
    SpiffeId id = SpiffeId.forServiceAccount("cluster.local", "default", "bookinfo-productpage");
    assertThat(id).hasToString("spiffe://cluster.local/ns/default/sa/bookinfo-productpage");
    assertThat(id.serviceAccount()).contains(new SpiffeId.ServiceAccountName("default", "bookinfo-productpage"));
    assertThat(SpiffeId.parse("spiffe://cluster.local/ns/default").serviceAccount()).isEmpty();
    assertThat(SpiffeId.parse("spiffe://cluster.local").isWorkload()).isFalse();
  }

  @Test
  void serviceAccountNamesCannotSmuggleExtraSegments() {
    for (String[] bad : new String[][] {{"a/b", "sa"}, {"ns", "sa/x"}, {"NS", "sa"}, {"ns", ".."}, {"", "sa"},
        {"ns", "-sa"}, {"n.s", "sa"}, {"a".repeat(64), "sa"}}) {
      assertThatThrownBy(() -> SpiffeId.forServiceAccount("cluster.local", bad[0], bad[1]))
          .as(bad[0] + "/" + bad[1]).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Kubernetes name");
    }
    assertThat(SpiffeId.forServiceAccount("cluster.local", "kube-system", "my.sa-1").path())
        .isEqualTo("/ns/kube-system/sa/my.sa-1");
  }
}
