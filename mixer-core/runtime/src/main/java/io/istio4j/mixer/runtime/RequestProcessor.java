package io.istio4j.mixer.runtime;

import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.v1.CheckResponse;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Turns decoded requests into decisions and telemetry. The gRPC layer decodes and maps errors; this
 * is where rules are resolved and adapters dispatched. Answers are stages: complete on return when
 * only in-memory handlers were involved, completed later by a worker or an asynchronous adapter
 * otherwise, so no transport thread ever waits on a backend.
 */
public interface RequestProcessor {

  /** Answers a Check; the response carries precondition status, durations and references. */
  CompletionStage<CheckResponse> check(DecodedCheckRequest request, CallContext context);

  /**
   * Processes every record of a Report. Throws {@link io.istio4j.mixer.attribute.AttributeDecodeException}
   * for a record that cannot be decoded; the stage fails when a handler failed.
   */
  CompletionStage<Void> report(DecodedReportRequest request, CallContext context);

  /** Answers a Check and waits for the answer (tests and tools; never on a transport thread). */
  default CheckResponse check(DecodedCheckRequest request) {
    return join(check(request, CallContext.NONE));
  }

  /** Processes a Report and waits until it is handled (tests and tools). */
  default void report(DecodedReportRequest request) {
    join(report(request, CallContext.NONE));
  }

  private static <T> T join(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    }
  }
}
