package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCalls;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.attribute.DecodeLimits;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.attribute.ReportBatchEncoder;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.CallContext;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CompressedAttributes;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReportRequest;
import io.istio4j.mixer.v1.ReportResponse;
import io.istio4j.mixer.v1.StringMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MixerGrpcServiceTest {

  private Server server;
  private ManagedChannel channel;
  private MixerGrpc.MixerBlockingStub mixer;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerMetrics metrics = new ServerMetrics();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new MixerGrpcService(new NoRulesProcessor(), DecodeLimits.DEFAULT, metrics).bind())
        .build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    mixer = MixerGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void anAnswerThatComesLaterDoesNotHoldTheTransportThread() throws Exception {
    NoRulesProcessor rules = new NoRulesProcessor();
    CompletableFuture<CheckResponse> later = new CompletableFuture<>();
    CountDownLatch asked = new CountDownLatch(1);
    RequestProcessor slowCheck = new RequestProcessor() {
      @Override
      public CompletionStage<CheckResponse> check(
          DecodedCheckRequest request, CallContext context) {
        asked.countDown();
        return later;
      }

      @Override
      public CompletionStage<Void> report(
          DecodedReportRequest request, CallContext context) {
        return rules.report(request, context);
      }
    };
    String name = InProcessServerBuilder.generateName();
    // One transport thread serves both calls: if the pending Check held it, the Report could not run.
    ExecutorService transport = Executors.newSingleThreadExecutor();
    Server s = InProcessServerBuilder.forName(name).executor(transport)
        .addService(new MixerGrpcService(slowCheck, DecodeLimits.DEFAULT, new ServerMetrics()).bind())
        .build().start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
    try {
      ListenableFuture<CheckResponse> check =
          MixerGrpc.newFutureStub(ch).check(CheckRequest.getDefaultInstance());
      assertThat(asked.await(5, TimeUnit.SECONDS)).isTrue();
      MixerGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
          .report(ReportRequest.getDefaultInstance());
      assertThat(check.isDone()).isFalse();
      later.complete(rules.answer(RequestDecoder.decodeCheck(
          CheckRequest.getDefaultInstance().toByteArray(), DecodeLimits.DEFAULT)));
      assertThat(check.get(5, TimeUnit.SECONDS).getPrecondition().getValidUseCount())
          .isEqualTo(200);
    } finally {
      ch.shutdownNow();
      s.shutdownNow();
      transport.shutdownNow();
    }
  }

  @Test
  void aBugAnswersInternalWithoutJavaClassNames() throws Exception {
    RequestProcessor buggy = new RequestProcessor() {
      @Override
      public CompletionStage<CheckResponse> check(
          DecodedCheckRequest request, CallContext context) {
        throw new NullPointerException();
      }

      @Override
      public CompletionStage<Void> report(
          DecodedReportRequest request, CallContext context) {
        // a bug that surfaces later, on another thread
        return CompletableFuture.failedFuture(
            new ClassCastException("class java.lang.Long cannot be cast to class java.lang.String"));
      }
    };
    String name = InProcessServerBuilder.generateName();
    Server s = InProcessServerBuilder.forName(name).directExecutor()
        .addService(new MixerGrpcService(buggy, DecodeLimits.DEFAULT, new ServerMetrics()).bind())
        .build().start();
    ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
    try {
      assertThatThrownBy(() -> MixerGrpc.newBlockingStub(ch).check(CheckRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
            assertThat(e.getStatus().getDescription()).isEqualTo("Check failed: internal error (see server log)");
          });
      assertThatThrownBy(() -> MixerGrpc.newBlockingStub(ch).report(ReportRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
              assertThat(e.getStatus().getDescription()).isEqualTo("Report failed: internal error (see server log)"));
    } finally {
      ch.shutdownNow();
      s.shutdownNow();
    }
  }

  @Test
  void checkWithoutRulesIsOkForTenSecondsOrTwoHundredUses() {
    CheckResponse r = mixer.check(CheckRequest.newBuilder()
        .setAttributes(AttributesEncoder.encode(Map.of("destination.service", "a.ns.svc.cluster.local"), 167))
        .setGlobalWordCount(167)
        .build());
    assertThat(r.hasPrecondition()).isTrue();
    assertThat(r.getPrecondition().hasStatus()).isTrue();
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
    assertThat(r.getPrecondition().getValidDuration()).isEqualTo(Duration.newBuilder().setSeconds(10).build());
    assertThat(r.getPrecondition().getValidUseCount()).isEqualTo(200);
    assertThat(r.getPrecondition().hasReferencedAttributes()).isTrue();
    assertThat(r.getQuotasMap()).isEmpty();
  }

  @Test
  void theResponseInvariantsAreOnTheWireEvenWhenEmpty() throws Exception {
    byte[] wire = mixer.check(CheckRequest.getDefaultInstance()).toByteArray();
    CheckResponse r = CheckResponse.parseFrom(wire);
    // precondition (2) holds status (1), valid_duration (2), use count (3), references (5).
    assertThat(r.getPrecondition().hasStatus()).isTrue();
    assertThat(r.getPrecondition().hasValidDuration()).isTrue();
    assertThat(r.getPrecondition().hasReferencedAttributes()).isTrue();
    assertThat(r.getPrecondition().toByteArray()).containsSequence(0x0a, 0x00).containsSequence(0x2a, 0x00);
  }

  @Test
  void quotasWithoutRulesAreGrantedInFull() {
    CheckResponse r = mixer.check(CheckRequest.newBuilder()
        .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(5).build())
        .build());
    assertThat(r.getQuotasMap()).containsOnlyKeys("RequestCount");
    assertThat(r.getQuotasOrThrow("RequestCount").getGrantedAmount()).isEqualTo(5);
    assertThat(r.getQuotasOrThrow("RequestCount").getValidDuration().getSeconds()).isEqualTo(10);
    assertThat(r.getQuotasOrThrow("RequestCount").hasReferencedAttributes()).isTrue();
  }

  @Test
  void checkNeverFailsForABadValueIndex() {
    CheckResponse r = mixer.check(CheckRequest.newBuilder()
        .setAttributes(CompressedAttributes.newBuilder()
            .putStrings(152, -40)
            .putStringMaps(15, StringMap.newBuilder().putEntries(5000, 1).build()))
        .build());
    assertThat(r.getPrecondition().getStatus().getCode()).isZero();
  }

  @Test
  void reportAcceptsDeltaBatches() {
    ReportBatchEncoder batch = new ReportBatchEncoder(167);
    batch.add(Map.of("destination.service", "a", "response.code", 200L));
    batch.add(Map.of("destination.service", "a", "response.code", 404L));
    assertThat(mixer.report(batch.build())).isEqualTo(ReportResponse.getDefaultInstance());
    assertThat(mixer.report(ReportRequest.getDefaultInstance())).isEqualTo(ReportResponse.getDefaultInstance());
  }

  @Test
  void badIndexInALaterReportRecordIsInvalidArgumentWithTheFallbackPrefix() {
    ReportRequest bad = ReportRequest.newBuilder()
        .addAttributes(CompressedAttributes.newBuilder().putStrings(152, 90))
        .addAttributes(CompressedAttributes.newBuilder().putInt64S(9999, 1))
        .build();
    assertThatThrownBy(() -> mixer.report(bad))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription())
              .startsWith("Request could not be processed due to invalid")
              .contains("record 1: attribute name index 9999");
          com.google.rpc.Status detail = StatusProto.fromThrowable(e);
          assertThat(detail.getDetailsList()).anyMatch(a -> a.is(BadRequest.class));
        });
    // The server keeps serving.
    assertThat(mixer.check(CheckRequest.getDefaultInstance()).hasPrecondition()).isTrue();
  }

  @Test
  void undecodableBytesAreInvalidArgumentNamingTheProblem() {
    // Field 1 of CheckRequest claims 100 bytes but the message ends.
    CheckRequest garbage = CheckRequest.newBuilder()
        .setAttributes(CompressedAttributes.newBuilder()
            .putBytes(0, ByteString.copyFrom(new byte[] {1, 2, 3, 4})))
        .build();
    byte[] b = garbage.toByteArray();
    b[1] = 100;
    MethodDescriptor<byte[], CheckResponse> raw = MixerGrpc.getCheckMethod().toBuilder(
        RawMarshaller.INSTANCE,
        ProtoUtils.marshaller(CheckResponse.getDefaultInstance())).build();
    assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(
        channel, raw, CallOptions.DEFAULT, b))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).startsWith("malformed request: length 100");
        });
    assertThat(mixer.check(CheckRequest.getDefaultInstance()).hasPrecondition()).isTrue();
  }

  @Test
  void hugeMapsGetAClearStatus() {
    CompressedAttributes.Builder a = CompressedAttributes.newBuilder();
    for (int i = 0; i < 5000; i++) {
      a.putInt64S(-(i + 1), i);
      a.addWords("test.attr." + i);
    }
    assertThatThrownBy(() -> mixer.check(CheckRequest.newBuilder().setAttributes(a).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).isEqualTo(
              "request too large: more than 4096 attributes in one message");
        });
  }
}
