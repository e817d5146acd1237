package io.istio4j.mixer.server;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.istio4j.adapter.LogText;
import io.istio4j.adapter.RateLimitedLogger;
import io.istio4j.mixer.attribute.AttributeDecodeException;
import io.istio4j.mixer.attribute.DecodeLimits;
import io.istio4j.mixer.attribute.DecodedCheckRequest;
import io.istio4j.mixer.attribute.RequestDecoder;
import io.istio4j.mixer.runtime.DispatchException;
import io.istio4j.mixer.runtime.RequestProcessor;
import io.istio4j.mixer.runtime.ResolutionException;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixer.v1.ReportResponse;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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

  MixerGrpcService(RequestProcessor processor, DecodeLimits limits, ServerMetrics metrics) {
    this.processor = requireNonNull(processor, "processor");
    this.limits = requireNonNull(limits, "limits");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  /** Nothing to stop: calls are answered on the transport's threads or by the runtime's. */
  void close() {}

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
    doCheck(bytes, out);
  }

  void report(Object request, StreamObserver<ReportResponse> out) {
    if (!(request instanceof byte[] bytes)) {
      refused("Report", (Status) request, out);
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
    CompletableFuture<CheckResponse> answer;
    try {
      answer = processor.check(decoded, GrpcCallContext.current()).toCompletableFuture();
    } catch (AttributeDecodeException e) { // a map decoded on first read was over the limits
      out.onError(invalid("Check", e));
      return;
    } catch (RuntimeException e) {
      out.onError(internal("Check", e));
      return;
    }
    if (answer.isDone()) {
      answerCheck(answer, out); // the common case: in-memory handlers only, still on this thread
    } else {
      answer.whenComplete((r, e) -> answerCheck(answer, out));
    }
  }

  private void answerCheck(CompletableFuture<CheckResponse> answer, StreamObserver<CheckResponse> out) {
    CheckResponse response;
    try {
      response = answer.join();
    } catch (CompletionException | CancellationException e) {
      send(out, null, internal("Check", cause(e)));
      return;
    }
    send(out, response, null);
  }

  private void doReport(byte[] request, StreamObserver<ReportResponse> out) {
    CompletableFuture<Void> done;
    try {
      done = processor.report(RequestDecoder.decodeReport(request, limits), GrpcCallContext.current())
          .toCompletableFuture();
    } catch (AttributeDecodeException e) {
      out.onError(invalid("Report", e));
      return;
    } catch (RuntimeException e) {
      out.onError(internal("Report", e));
      return;
    }
    if (done.isDone()) {
      answerReport(done, out);
    } else {
      done.whenComplete((r, e) -> answerReport(done, out));
    }
  }

  private void answerReport(CompletableFuture<Void> done, StreamObserver<ReportResponse> out) {
    try {
      done.join();
    } catch (CompletionException | CancellationException e) {
      send(out, null, internal("Report", cause(e)));
      return;
    }
    send(out, REPORT_OK, null);
  }

  /** Sends an answer; a call the client has cancelled meanwhile takes none, and that is fine. */
  private static <T> void send(StreamObserver<T> out, T response, RuntimeException error) {
    try {
      if (error != null) {
        out.onError(error);
      } else {
        out.onNext(response);
        out.onCompleted();
      }
    } catch (IllegalStateException | StatusRuntimeException e) {
      log.debug("answer not sent: {}", e.getMessage());
    }
  }

  private static RuntimeException cause(RuntimeException e) {
    return e.getCause() instanceof RuntimeException r ? r : e;
  }

  /** INVALID_ARGUMENT naming the problem, with a google.rpc.BadRequest detail as upstream sends. */
  private StatusRuntimeException invalid(String method, AttributeDecodeException e) {
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
  private static StatusRuntimeException internal(String method, RuntimeException e) {
    if (e instanceof DispatchException || e instanceof ResolutionException) {
      failures.debug("{} failed: {}", method, e.getMessage());
      return Status.INTERNAL.withDescription(method + " failed: " + e.getMessage()).asRuntimeException();
    }
    failures.warn("{} failed", method, e);
    return Status.INTERNAL.withDescription(method + " failed: internal error (see server log)").asRuntimeException();
  }
}
