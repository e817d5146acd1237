package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixer.v1.ReferencedAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CheckCacheTest {

  final FakeTransport mixer = new FakeTransport();
  final FakeTicker clock = new FakeTicker();
  final MixerClient client = MixerClient.builder().transport(mixer).ticker(clock).build();

  @AfterEach
  void close() {
    client.close();
  }

  void answer(long seconds, int uses, ReferencedAttributes refs) {
    mixer.onCheck = r -> CompletableFuture.completedFuture(FakeTransport.ok(seconds, uses, refs));
  }

  static Attributes attrs(String service, Map<String, String> headers) {
    return Attributes.builder().put("destination.service", service).put("request.headers", headers)
        .put("request.time", Instant.now()).build();
  }

  @Test
  void exactKeyHitsOnTheSameValueAndMissesOnAnother() {
    answer(10, 200, FakeTransport.refs("destination.service EXACT"));
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.MIXER);
    // request.time and request.headers differ but were not referenced: still a hit.
    assertThat(client.check(attrs("a", Map.of("x", "y"))).source()).isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(attrs("b", Map.of())).source()).isEqualTo(CheckResult.Source.MIXER);
    assertThat(mixer.checks).hasSize(2);
  }

  @Test
  void absenceKeyMissesOnceTheAttributeIsPresent() {
    answer(10, 200, FakeTransport.refs("destination.service EXACT", "source.user ABSENCE"));
    client.check(attrs("a", Map.of()));
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.CACHE);
    Attributes withUser = attrs("a", Map.of()).toBuilder().put("source.user", "mallory").build();
    assertThat(client.check(withUser).source()).isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void mapKeysKeyOnlyTheReferencedKey() {
    answer(10, 200, FakeTransport.refs("destination.service EXACT", "request.headers[x-user] EXACT",
        "request.headers[x-debug] ABSENCE"));
    client.check(attrs("a", Map.of("x-user", "jason", "cookie", "1")));
    // Another cookie, same x-user: a hit. Another x-user: a miss. x-debug present: a miss.
    assertThat(client.check(attrs("a", Map.of("x-user", "jason", "cookie", "2"))).source())
        .isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(attrs("a", Map.of("x-user", "mallory"))).source()).isEqualTo(CheckResult.Source.MIXER);
    assertThat(client.check(attrs("a", Map.of("x-user", "jason", "x-debug", "1"))).source())
        .isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void deniedAnswersAreCachedWithTheirMessage() {
    mixer.onCheck = r -> CompletableFuture.completedFuture(FakeTransport.answer(7, "handler.denier:Not allowed", 10,
        200, FakeTransport.refs("request.headers[x-user] EXACT")));
    client.check(attrs("a", Map.of("x-user", "mallory")));
    CheckResult r = client.check(attrs("a", Map.of("x-user", "mallory")));
    assertThat(r).isEqualTo(new CheckResult(7, "handler.denier:Not allowed", CheckResult.Source.CACHE));
    assertThat(r.httpStatus()).isEqualTo(403);
  }

  @Test
  void regexReferenceIsNeverCached() {
    answer(10, 200, FakeTransport.refs("destination.service EXACT", "request.path REGEX"));
    client.check(attrs("a", Map.of()));
    client.check(attrs("a", Map.of()));
    assertThat(mixer.checks).hasSize(2);
    assertThat(client.stats().uncacheableChecks()).isEqualTo(2);
  }

  @Test
  void expiresAfterTheValidDuration() {
    answer(10, -1, FakeTransport.refs("destination.service EXACT"));
    client.check(attrs("a", Map.of()));
    clock.advance(Duration.ofMillis(9_999));
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.CACHE);
    clock.advance(Duration.ofMillis(1));
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void expiresAfterTheValidUseCount() {
    // 3 uses: the Check that fetched the answer and two hits.
    answer(10, 3, FakeTransport.refs("destination.service EXACT"));
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.MIXER);
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(attrs("a", Map.of())).source()).isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void answersValidForOneUseOrWithoutDurationAreNotCached() {
    answer(10, 1, FakeTransport.refs("destination.service EXACT"));
    client.check(attrs("a", Map.of()));
    client.check(attrs("a", Map.of()));
    answer(0, 200, FakeTransport.refs("destination.service EXACT"));
    client.check(attrs("b", Map.of()));
    client.check(attrs("b", Map.of()));
    assertThat(mixer.checks).hasSize(4);
  }

  @Test
  void valuesAreComparedNotHashedIncludingBytes() {
    answer(10, 200, FakeTransport.refs("source.ip EXACT"));
    client.check(Attributes.builder().put("source.ip", new byte[] {10, 0, 0, 1}).build());
    assertThat(client.check(Attributes.builder().put("source.ip", new byte[] {10, 0, 0, 1}).build()).source())
        .isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(Attributes.builder().put("source.ip", new byte[] {10, 0, 0, 2}).build()).source())
        .isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void globalWordIndexesDecodeLikeMessageWords() {
    // destination.service is global word 152, x-user a message word.
    ReferencedAttributes refs = ReferencedAttributes.newBuilder().addWords("x-user")
        .addAttributeMatches(ReferencedAttributes.AttributeMatch.newBuilder().setName(152)
            .setCondition(ReferencedAttributes.Condition.EXACT))
        .addAttributeMatches(ReferencedAttributes.AttributeMatch.newBuilder().setName(15).setMapKey(-1)
            .setCondition(ReferencedAttributes.Condition.EXACT))
        .build();
    answer(10, 200, refs);
    client.check(attrs("a", Map.of("x-user", "jason")));
    assertThat(client.check(attrs("a", Map.of("x-user", "jason", "other", "1"))).source())
        .isEqualTo(CheckResult.Source.CACHE);
    assertThat(client.check(attrs("a", Map.of("x-user", "bob"))).source()).isEqualTo(CheckResult.Source.MIXER);
  }

  @Test
  void malformedIndexesAreNotCached() {
    ReferencedAttributes refs = ReferencedAttributes.newBuilder()
        .addAttributeMatches(ReferencedAttributes.AttributeMatch.newBuilder().setName(-5)
            .setCondition(ReferencedAttributes.Condition.EXACT))
        .build();
    answer(10, 200, refs);
    client.check(attrs("a", Map.of()));
    client.check(attrs("a", Map.of()));
    assertThat(mixer.checks).hasSize(2);
  }

  @Test
  void cacheStaysWithinItsBound() {
    MixerClient small = MixerClient.builder().transport(mixer).ticker(clock).checkCacheMaxEntries(10).build();
    answer(10, 200, FakeTransport.refs("destination.service EXACT"));
    for (int i = 0; i < 1000; i++) {
      small.check(attrs("svc-" + i, Map.of()));
    }
    assertThat(small.cache().size()).isLessThanOrEqualTo(10);
    small.close();
  }
}
