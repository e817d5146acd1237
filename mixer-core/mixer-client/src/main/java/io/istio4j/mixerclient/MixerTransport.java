package io.istio4j.mixerclient;

import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.ReportRequest;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The two calls the client makes. Futures fail with {@link io.grpc.StatusRuntimeException} when the
 * call fails; tests substitute a fake to script Mixer's answers and failures.
 */
interface MixerTransport {

  /** Sends a Check with {@code headers} as extra request metadata, due within {@code timeoutNanos}. */
  CompletableFuture<CheckResponse> check(CheckRequest request, Map<String, String> headers, long timeoutNanos);

  /** Sends a Report due within {@code timeoutNanos}. */
  CompletableFuture<Void> report(ReportRequest request, long timeoutNanos);

  /** Releases what the transport owns (a channel it created). */
  void close();
}
