package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import brave.Span;
import brave.Tracer;
import brave.Tracing;
import io.grpc.Status;
import io.istio4j.mixer.attribute.GlobalDictionary;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class FailPolicyTest {

  final FakeTransport mixer = new FakeTransport();
  final Attributes attrs = Attributes.builder().put("destination.service", "a").build();

  MixerClient client(FailPolicy policy) {
    return MixerClient.builder().transport(mixer).failPolicy(policy)
        .retries(3, Duration.ofMillis(1), Duration.ofMillis(2)).build();
  }

  @Test
  void unreachableMixerIsRetriedThenAllowedWhenFailingOpen() {
    mixer.onCheck = r -> CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("refused").asRuntimeException());
    try (MixerClient client = client(FailPolicy.OPEN)) {
      CheckResult r = client.check(attrs);
      assertThat(r.allowed()).isTrue();
      assertThat(r.source()).isEqualTo(CheckResult.Source.FAIL_OPEN);
      assertThat(mixer.checks).hasSize(3);
      // Every retry carries the same deduplication id.
      assertThat(mixer.checks).extracting(c -> c.getDeduplicationId()).containsOnly(mixer.checks.get(0).getDeduplicationId());
      // A failure is never cached.
      client.check(attrs);
      assertThat(mixer.checks).hasSize(6);
      assertThat(client.stats().failedOpen()).isEqualTo(2);
    }
  }

  @Test
  void unreachableMixerDeniesWith503WhenFailingClosed() {
    mixer.onCheck = r -> CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("refused").asRuntimeException());
    try (MixerClient client = client(FailPolicy.CLOSE)) {
      CheckResult r = client.check(attrs);
      assertThat(r.code()).isEqualTo(Status.Code.UNAVAILABLE.value());
      assertThat(r.httpStatus()).isEqualTo(503);
      assertThat(r.message()).contains("Mixer unreachable").contains("refused");
      assertThat(r.source()).isEqualTo(CheckResult.Source.FAIL_CLOSE);
    }
  }

  @Test
  void aSlowMixerHitsTheDeadlineOnceAndIsNotRetried() {
    mixer.onCheck = r -> new CompletableFuture<>(); // never answers
    try (MixerClient client = MixerClient.builder().transport(mixer).failPolicy(FailPolicy.CLOSE)
        .checkTimeout(Duration.ofMillis(50)).build()) {
      CheckResult r = client.check(attrs);
      assertThat(r.source()).isEqualTo(CheckResult.Source.FAIL_CLOSE);
      assertThat(r.message()).contains("DEADLINE_EXCEEDED");
      assertThat(mixer.checks).hasSize(1);
    }
  }

  @Test
  void mixersInternalAnswerPassesOnlyWhenFailingOpen() {
    mixer.onCheck = r -> CompletableFuture.completedFuture(FakeTransport.answer(13, "identity not found", 10, 200,
        FakeTransport.refs("destination.service ABSENCE")));
    try (MixerClient open = client(FailPolicy.OPEN); MixerClient closed = client(FailPolicy.CLOSE)) {
      assertThat(open.check(Attributes.empty()).allowed()).isTrue();
      assertThat(closed.check(Attributes.empty()).code()).isEqualTo(13);
    }
  }

  @Test
  void deniedAnswersAreNotAffectedByThePolicy() {
    mixer.onCheck = r -> CompletableFuture.completedFuture(FakeTransport.answer(7, "denier:Not allowed", 10, 200,
        FakeTransport.refs()));
    try (MixerClient client = client(FailPolicy.OPEN)) {
      assertThat(client.check(attrs).code()).isEqualTo(7);
    }
  }

  @Test
  void rejectedIndexesFallBackToTheBaseDictionary() {
    AtomicInteger calls = new AtomicInteger();
    mixer.onCheck = r -> calls.getAndIncrement() == 0
        ? CompletableFuture.failedFuture(Status.INVALID_ARGUMENT
            .withDescription("Request could not be processed due to invalid attributes.").asRuntimeException())
        : CompletableFuture.completedFuture(FakeTransport.ok(10, 200, FakeTransport.refs()));
    try (MixerClient client = client(FailPolicy.CLOSE)) {
      assertThat(client.check(attrs).allowed()).isTrue();
      assertThat(mixer.checks.get(0).getGlobalWordCount()).isEqualTo(GlobalDictionary.SIZE);
      assertThat(mixer.checks.get(1).getGlobalWordCount()).isEqualTo(GlobalDictionary.BASE_SIZE);
      // destination.service (152) is beyond the base dictionary: now a message word.
      assertThat(mixer.checks.get(1).getAttributes().getWordsList()).contains("destination.service");
      assertThat(client.globalWordCount()).isEqualTo(GlobalDictionary.BASE_SIZE);
    }
  }

  @Test
  void checkCarriesTheCurrentBraveSpanAsB3Headers() {
    try (Tracing tracing = Tracing.newBuilder().localServiceName("caller").build();
        MixerClient client = MixerClient.builder().transport(mixer).checkCache(false).build()) {
      Tracer tracer = tracing.tracer();
      Span span = tracer.newTrace().name("GET /ratings").start();
      try (Tracer.SpanInScope scope = tracer.withSpanInScope(span)) {
        client.check(attrs);
      } finally {
        span.finish();
      }
      client.check(Attributes.builder().put("destination.service", "untraced").build());
      assertThat(mixer.checkHeaders.get(0))
          .containsEntry("x-b3-traceid", span.context().traceIdString())
          .containsEntry("x-b3-spanid", span.context().spanIdString())
          .containsEntry("x-b3-sampled", "1");
      assertThat(mixer.checkHeaders.get(1)).isEmpty();
    }
  }
}
