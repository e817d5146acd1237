package io.istio4j.mixer.server;

import io.istio4j.adapter.LogText;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.mixer.runtime.DispatchException;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.runtime.ResolutionException;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.istio4j.mixer.attribute.AttributeDecodeException;
import io.istio4j.mixer.attribute.DecodeLimits;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReportResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code istio.mixer.v1.Mixer} service. Requests arrive as raw bytes and are decoded by
 * {@link RequestDecoder} straight into attribute bags (no protobuf message objects on the way in);
 * responses are ordinary protobuf messages. The service shares the generated stubs' schema
 * descriptors, so reflection and tools such as grpcurl see the real API.
 */
final class MixerGrpcService {

  private static final Logger log = LoggerFactory.getLogger(MixerGrpcService.class);

  // Requests are byte[], or the Status of a request the marshaller could not read (see RequestBytes).
  static final MethodDescriptor<Object, CheckResponse> CHECK =
      MixerGrpc.getCheckMethod().toBuilder(RequestBytes.INSTANCE, ProtoUtils.marshaller(CheckResponse.getDefaultInstance()))
          .build();
  static final MethodDescriptor<Object, ReportResponse> REPORT =
      MixerGrpc.getReportMethod().toBuilder(RequestBytes.INSTANCE, ProtoUtils.marshaller(ReportResponse.getDefaultInstance()))
          .build();

  private static final ReportResponse REPORT_OK = ReportResponse.getDefaultInstance();

  // A client can cause these at will: bounded and escaped (RateLimitedLogger), no stack traces
  // for its own mistakes.
  private static final RateLimitedLogger rejections = RateLimitedLogger.of(log);
  private static final RateLimitedLogger failures = RateLimitedLogger.of(log);

  private final RequestProcessor processor;
  private final DecodeLimits limits;
  private final ServerMetrics metrics;
  private final java.util.concurrent.ExecutorService requests = new java.util.concurrent.ThreadPoolExecutor(
      64, 64, 60, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(4096), r -> {
        Thread t = new Thread(r, "mixer-request");
        t.setDaemon(true);
        return t;
      });

  MixerGrpcService(RequestProcessor processor, DecodeLimits limits, ServerMetrics metrics) {
    this.processor = requireNonNull(processor, "processor");
    this.limits = requireNonNull(limits, "limits");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  /** Stops the request pool; calls already handed to it have finished when the gRPC server has. */
  void close() {
    requests.shutdownNow();
  }

  ServerServiceDefinition bind() {
    ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(MixerGrpc.SERVICE_NAME)
        .setSchemaDescriptor(MixerGrpc.getServiceDescriptor().getSchemaDescriptor())
        .addMethod(CHECK)
        .addMethod(REPORT)
        .build();
    return ServerServiceDefinition.builder(descriptor)
        .addMethod(CHECK, ServerCalls.asyncUnaryCall(this::check))
        .addMethod(REPORT, ServerCalls.asyncUnaryCall(this::report))
        .build();
  }

  void check(Object request, StreamObserver<CheckResponse> out) {
    if (!(request instanceof byte[] bytes)) {
      refused("Check", (Status) request, out);
      return;
    }
    if (processor.mayBlock()) {
      offload(() -> doCheck(bytes, out), out);
      return;
    }
    doCheck(bytes, out);
  }

  void report(Object request, StreamObserver<ReportResponse> out) {
    if (!(request instanceof byte[] bytes)) {
      refused("Report", (Status) request, out);
      return;
    }
    if (processor.mayBlock()) {
      offload(() -> doReport(bytes, out), out);
      return;
    }
    doReport(bytes, out);
  }

  /** A request whose bytes could not be read (corrupt compression, or inflating past the size limit). */
  private void refused(String method, Status status, StreamObserver<?> out) {
    metrics.requestRejected(method);
    rejections.debug("{} rejected: {}", method, status.getDescription());
    out.onError(status.asRuntimeException());
  }

  /** Runs a call on the request pool; when it is full the call fails fast with UNAVAILABLE. */
  private void offload(Runnable call, StreamObserver<?> out) {
    try {
      requests.execute(call);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      out.onError(Status.UNAVAILABLE.withDescription("Mixer is overloaded: request pool full").asRuntimeException());
    }
  }

  private void doCheck(byte[] request, StreamObserver<CheckResponse> out) {
    DecodedCheckRequest decoded;
    try {
      decoded = RequestDecoder.decodeCheck(request, limits);
    } catch (AttributeDecodeException e) {
      out.onError(invalid("Check", e));
      return;
    }
    if (decoded.attributes().badEntryCount() > 0) {
      metrics.attributesDropped(decoded.attributes().badEntryCount());
      if (log.isDebugEnabled()) {
        log.debug("Check: {} attribute(s) left out: {}", decoded.attributes().badEntryCount(),
            LogText.escape(decoded.attributes().firstProblem()));
      }
    }
    CheckResponse response;
    try {
      response = processor.check(decoded);
    } catch (AttributeDecodeException e) { // a map decoded on first read was over the limits
      out.onError(invalid("Check", e));
      return;
    } catch (RuntimeException e) {
      out.onError(internal("Check", e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  private void doReport(byte[] request, StreamObserver<ReportResponse> out) {
    try {
      processor.report(RequestDecoder.decodeReport(request, limits));
    } catch (AttributeDecodeException e) {
      out.onError(invalid("Report", e));
      return;
    } catch (RuntimeException e) {
      out.onError(internal("Report", e));
      return;
    }
    out.onNext(REPORT_OK);
    out.onCompleted();
  }

  /** INVALID_ARGUMENT naming the problem, with a google.rpc.BadRequest detail as upstream sends. */
  private io.grpc.StatusRuntimeException invalid(String method, AttributeDecodeException e) {
    metrics.requestRejected(method);
    rejections.debug("{} rejected: {}", method, e.getMessage());
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(Status.Code.INVALID_ARGUMENT.value())
        .setMessage(e.getMessage())
        .addDetails(Any.pack(BadRequest.newBuilder()
            .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                .setField("attributes")
                .setDescription(e.detail()))
            .build()))
        .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  /**
   * INTERNAL. Handler failures and unresolvable rules carry messages meant for the client; anything
   * else is a bug whose exception (Java class names, internals) is logged, not sent.
   */
  private static io.grpc.StatusRuntimeException internal(String method, RuntimeException e) {
    if (e instanceof DispatchException || e instanceof ResolutionException) {
      failures.debug("{} failed: {}", method, e.getMessage());
      return Status.INTERNAL.withDescription(method + " failed: " + e.getMessage()).asRuntimeException();
    }
    failures.warn("{} failed", method, e);
    return Status.INTERNAL.withDescription(method + " failed: internal error (see server log)").asRuntimeException();
  }
}
