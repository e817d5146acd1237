package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.CallContext;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.net.ServerSocket;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Which calls are traced: the caller's decision when it sent one, else --traceSampleRate; none without --zipkinURL. */
class SamplingTest {

  private static boolean traced(TracingOptions tracing, String... b3) throws Exception {
    AtomicReference<Boolean> recording = new AtomicReference<>();
    NoRulesProcessor answers = new NoRulesProcessor();
    RequestProcessor processor = new RequestProcessor() {
      @Override
      public CompletionStage<CheckResponse> check(DecodedCheckRequest request, CallContext context) {
        recording.set(context.span().isRecording());
        return answers.check(request, context);
      }

      @Override
      public CompletionStage<Void> report(DecodedReportRequest request, CallContext context) {
        return answers.report(request, context);
      }
    };
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral(), tracing, processor)) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        MixerGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TracingConfig.b3(b3)))
            .check(CheckRequest.getDefaultInstance());
      } finally {
        ch.shutdownNow();
      }
    }
    return recording.get();
  }

  private static TracingOptions rate(float rate) throws Exception {
    try (ServerSocket s = new ServerSocket(0)) { // nothing listens: spans are dropped, calls go on
      return new TracingOptions("http://127.0.0.1:" + s.getLocalPort() + "/api/v2/spans", rate);
    }
  }

  private static final String[] IDS = {"x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312"};

  @Test
  void theCallersDecisionWins() throws Exception {
    assertThat(traced(rate(0f), "x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312",
        "x-b3-sampled", "1")).isTrue();
    assertThat(traced(rate(1f), "x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312",
        "x-b3-sampled", "0")).isFalse();
    assertThat(traced(rate(0f), "b3", "d")).isTrue();
    assertThat(traced(rate(1f), "b3", "0")).isFalse();
  }

  @Test
  void withoutADecisionTheRateDecides() throws Exception {
    assertThat(traced(rate(1f), IDS)).isTrue();
    assertThat(traced(rate(0f), IDS)).isFalse();
    assertThat(traced(rate(1f))).isTrue();
    assertThat(traced(rate(0f))).isFalse();
    assertThat(traced(rate(1f), "x-b3-traceid", "bad")).as("malformed: a new trace, sampled at the rate").isTrue();
  }

  @Test
  void withoutZipkinNothingIsTraced() throws Exception {
    assertThat(traced(TracingOptions.DISABLED, "b3", "d")).isFalse();
  }
}
