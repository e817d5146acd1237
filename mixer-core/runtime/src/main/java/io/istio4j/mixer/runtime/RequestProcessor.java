package io.istio4j.mixer.runtime;

import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.DecodedReportRequest;
import io.istio4j.mixer.v1.CheckResponse;

/**
 * Turns decoded requests into decisions and telemetry. The gRPC layer decodes and maps errors; this
 * is where rules are resolved and adapters dispatched.
 */
public interface RequestProcessor {

  /** Answers a Check; the response must carry precondition status, durations and references. */
  CheckResponse check(DecodedCheckRequest request);

  /**
   * Processes every record of a Report. Throws {@link io.istio4j.mixer.attribute.AttributeDecodeException}
   * for a record that cannot be decoded.
   */
  void report(DecodedReportRequest request);

  /**
   * True when answering may wait on I/O (a blocking handler is configured): the gRPC layer then runs
   * calls off its transport threads so one slow backend cannot stall other connections.
   */
  default boolean mayBlock() {
    return false;
  }
}
