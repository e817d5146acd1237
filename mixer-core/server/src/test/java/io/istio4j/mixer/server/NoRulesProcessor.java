package io.istio4j.mixer.server;

import com.google.protobuf.Duration;
import com.google.rpc.Status;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.runtime.CallContext;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.CheckResponse.PreconditionResult;
import io.istio4j.mixer.v1.CheckResponse.QuotaResult;
import io.istio4j.mixer.v1.ReferencedAttributes;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Upstream's answers when no rule applies: Check is OK for 10s or 200 uses, every requested quota
 * is granted in full for 10s, and Report records are decoded (so bad ones are still rejected) and
 * dropped. A stand-in for the runtime in tests of the gRPC layer.
 */
final class NoRulesProcessor implements RequestProcessor {

  static final Duration DEFAULT_VALID_DURATION = Duration.newBuilder().setSeconds(10).build();
  static final int DEFAULT_VALID_USE_COUNT = 200;

  private static final CheckResponse OK = CheckResponse.newBuilder()
      .setPrecondition(PreconditionResult.newBuilder()
          .setStatus(Status.getDefaultInstance())
          .setValidDuration(DEFAULT_VALID_DURATION)
          .setValidUseCount(DEFAULT_VALID_USE_COUNT)
          .setReferencedAttributes(ReferencedAttributes.getDefaultInstance()))
      .build();

  @Override
  public CompletionStage<CheckResponse> check(DecodedCheckRequest request, CallContext context) {
    return CompletableFuture.completedFuture(answer(request));
  }

  CheckResponse answer(DecodedCheckRequest request) {
    if (request.quotas().isEmpty()) {
      return OK;
    }
    CheckResponse.Builder b = OK.toBuilder();
    request.quotas().forEach((name, params) -> b.putQuotas(name, QuotaResult.newBuilder()
        .setValidDuration(DEFAULT_VALID_DURATION)
        .setGrantedAmount(params.amount())
        .setReferencedAttributes(ReferencedAttributes.getDefaultInstance())
        .build()));
    return b.build();
  }

  @Override
  public CompletionStage<Void> report(DecodedReportRequest request, CallContext context) {
    request.forEachRecord(bag -> { });
    return CompletableFuture.completedFuture(null);
  }
}
