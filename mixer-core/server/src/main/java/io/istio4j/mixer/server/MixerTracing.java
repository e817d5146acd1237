package io.istio4j.mixer.server;

import brave.Span;
import brave.Tracer;
import brave.Tracing;
import brave.handler.MutableSpan;
import brave.handler.SpanHandler;
import brave.propagation.TraceContext;
import brave.sampler.Sampler;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.istio4j.adapter.ReportedSpan;
import io.istio4j.mixer.runtime.SpanReporter;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import zipkin2.reporter.Encoding;
import zipkin2.reporter.ReporterMetrics;
import zipkin2.reporter.brave.AsyncZipkinSpanHandler;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Mixer's tracing ({@code --zipkinURL}): a Brave tracer for the service {@code istio-mixer} whose
 * spans go to Zipkin through zipkin-reporter's bounded asynchronous reporter, so a slow or dead
 * Zipkin costs a request nothing: spans wait in bounded queues (a lock-free hand-off, {@link
 * DeferredSpanHandler}, then the reporter's) that background threads send in batches, and when a
 * queue is full new spans are dropped and counted on {@code /metrics}.
 *
 * <p>The {@link #interceptor()} reads the caller's B3 headers from the gRPC metadata and starts
 * Mixer's server span as a child of the caller's span; the runtime gets it through {@link
 * GrpcCallContext} and records one child per handler call. Disabled, there is no interceptor and
 * nothing is recorded.
 */
final class MixerTracing implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MixerTracing.class);

  /** The service name Mixer's spans carry, as upstream's. */
  static final String SERVICE_NAME = "istio-mixer";

  /** Spans waiting to be sent; beyond this (or {@link #QUEUED_MAX_BYTES}) new spans are dropped. */
  static final int QUEUED_MAX_SPANS = 10_000;
  static final int QUEUED_MAX_BYTES = 8 * 1024 * 1024;

  /**
   * The largest message to Zipkin. zipkin-reporter sizes the message being filled by summing every
   * span in it for each span it adds, which is quadratic in the spans per message: at the default
   * 500 KB (about 3,000 of Mixer's spans) that sizing was the largest single cost of tracing at
   * 100% sampling. 64 KiB (about 400 spans) makes it negligible for more, still small, messages.
   */
  static final int MESSAGE_MAX_BYTES = 64 * 1024;

  private static final MixerTracing DISABLED = new MixerTracing(null, null, null, null, null);

  private final @Nullable Tracing tracing;
  private final @Nullable AsyncZipkinSpanHandler zipkin;
  private final @Nullable DeferredSpanHandler deferred;
  private final @Nullable URLConnectionSender sender;
  private final @Nullable Counter malformed;

  private MixerTracing(@Nullable Tracing tracing, @Nullable AsyncZipkinSpanHandler zipkin,
      @Nullable DeferredSpanHandler deferred, @Nullable URLConnectionSender sender, @Nullable Counter malformed) {
    this.tracing = tracing;
    this.zipkin = zipkin;
    this.deferred = deferred;
    this.sender = sender;
    this.malformed = malformed;
  }

  /** Tracing as {@code options} say, its metrics registered in {@code registry}. */
  static MixerTracing create(TracingOptions options, PrometheusRegistry registry) {
    if (!options.enabled()) {
      return DISABLED;
    }
    URLConnectionSender sender = URLConnectionSender.newBuilder()
        .endpoint(options.zipkinUrl())
        // Protocol Buffers rather than JSON (Zipkin takes both at /api/v2/spans, told by the content
        // type): sizing each span for the bounded queue happens on the request's thread, and proto3
        // sizes and encodes with no escaping and fewer, smaller bytes than JSON.
        .encoding(Encoding.PROTO3)
        // No gzip: Zipkin is normally in the cluster, and compressing every message costs Mixer
        // CPU that its requests need more than the network needs the bytes.
        .compressionEnabled(false)
        .messageMaxBytes(MESSAGE_MAX_BYTES)
        // Short timeouts: the sending thread is the only one that waits on Zipkin, and a stuck
        // send only makes the queue fill and drop sooner.
        .connectTimeout(1_000)
        .readTimeout(5_000)
        .build();
    PrometheusReporterMetrics metrics = new PrometheusReporterMetrics(registry);
    AsyncZipkinSpanHandler zipkin = AsyncZipkinSpanHandler.newBuilder(sender)
        .queuedMaxSpans(QUEUED_MAX_SPANS)
        .queuedMaxBytes(QUEUED_MAX_BYTES)
        .messageMaxBytes(MESSAGE_MAX_BYTES)
        .messageTimeout(1, TimeUnit.SECONDS)
        .closeTimeout(1, TimeUnit.SECONDS)
        .metrics(metrics)
        .build();
    // Requests hand their spans to this handler's lock-free queue; its thread feeds the reporter.
    DeferredSpanHandler deferred = new DeferredSpanHandler(zipkin, QUEUED_MAX_SPANS, metrics::incrementSpansDropped);
    Tracing tracing = Tracing.newBuilder()
        .localServiceName(SERVICE_NAME)
        .sampler(Sampler.create(options.sampleRate()))
        .traceId128Bit(true)
        .supportsJoin(false) // Mixer's span is a child of the caller's, never shares its id
        .addSpanHandler(deferred)
        .build();
    Counter malformed = Counter.builder()
        .name("mixer_trace_b3_malformed_total")
        .help("Calls whose B3 trace headers could not be read; each started a new trace.")
        .register(registry);
    log.info("tracing to {} as {}, sampling {} of calls without a caller's decision", options.zipkinUrl(),
        SERVICE_NAME, options.sampleRate());
    return new MixerTracing(tracing, zipkin, deferred, sender, malformed);
  }

  boolean enabled() {
    return tracing != null;
  }

  /** Reads B3 metadata and traces the call; null when tracing is off. */
  @Nullable ServerInterceptor interceptor() {
    return tracing == null ? null : new TracingInterceptor(tracing.tracer(), malformed);
  }

  /** Where {@code Env.reportSpan} sends spans (the tracespan adapter's). */
  SpanReporter spanReporter() {
    return zipkin == null ? SpanReporter.NONE : this::report;
  }

  /** Queues a span recorded elsewhere, as its own service, with the reporter Mixer's spans use. */
  boolean report(ReportedSpan r) {
    if (zipkin == null) {
      return false;
    }
    String t = r.traceId();
    TraceContext.Builder b = TraceContext.newBuilder()
        .traceIdHigh(t.length() == 32 ? Long.parseUnsignedLong(t.substring(0, 16), 16) : 0)
        .traceId(Long.parseUnsignedLong(t.substring(t.length() - 16), 16))
        .spanId(Long.parseUnsignedLong(r.spanId(), 16))
        .sampled(true);
    if (r.parentSpanId() != null) {
      b.parentId(Long.parseUnsignedLong(r.parentSpanId(), 16));
    }
    TraceContext context = b.build();
    MutableSpan span = new MutableSpan(context, null);
    span.name(r.name());
    span.localServiceName(r.serviceName());
    span.startTimestamp(micros(r.start()));
    span.finishTimestamp(Math.max(micros(r.end()), micros(r.start())));
    for (Map.Entry<String, String> tag : r.tags().entrySet()) {
      span.tag(tag.getKey(), tag.getValue());
    }
    return deferred.end(context, span, SpanHandler.Cause.FINISHED);
  }

  private static long micros(Instant i) {
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }

  /** Sends what is queued (waiting at most the close timeout) and stops the reporter. */
  @Override
  public void close() {
    if (tracing == null) {
      return;
    }
    tracing.close();
    deferred.close();
    try {
      zipkin.flush();
    } catch (RuntimeException e) {
      log.debug("last spans not sent: {}", e.toString());
    }
    zipkin.close();
    sender.close();
  }

  /** Starts Mixer's server span of a call, child of the caller's span when B3 metadata names one. */
  private static final class TracingInterceptor implements ServerInterceptor {
    private final Tracer tracer;
    private final Counter malformed;

    TracingInterceptor(Tracer tracer, Counter malformed) {
      this.tracer = tracer;
      this.malformed = malformed;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      B3Metadata.Extracted extracted = B3Metadata.extract(headers);
      if (extracted.malformed()) {
        malformed.inc();
      }
      Span span = extracted.value() == null ? tracer.nextSpan() : tracer.nextSpan(extracted.value());
      if (span.isNoop()) {
        return next.startCall(call, headers); // not sampled: record nothing
      }
      span.kind(Span.Kind.SERVER).name(call.getMethodDescriptor().getFullMethodName());
      SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
        span.remoteIpAndPort(inet.getAddress().getHostAddress(), inet.getPort());
      }
      span.start();
      BraveSpan server = new BraveSpan(tracer, span);
      Context context = Context.current().withValue(GrpcCallContext.SPAN, server);
      ServerCall<Q, R> traced = new SimpleForwardingServerCall<>(call) {
        @Override
        public void close(Status status, Metadata trailers) {
          try {
            super.close(status, trailers);
          } finally {
            finish(server, status);
          }
        }
      };
      ServerCall.Listener<Q> listener = Contexts.interceptCall(context, traced, headers, next);
      return new SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onCancel() {
          try {
            super.onCancel();
          } finally {
            finish(server, Status.CANCELLED);
          }
        }
      };
    }

    /** Tags and finishes the server span once: a cancelled call may also be closed. */
    private static void finish(BraveSpan span, Status status) {
      span.tag("grpc.status_code", status.getCode().name());
      if (!status.isOk()) {
        span.tag("error", status.getDescription() != null ? status.getDescription() : status.getCode().name());
      }
      span.finish();
    }
  }

  /** zipkin-reporter's counts as Mixer metrics: sent, dropped (queue full or Zipkin failing), queued. */
  private static final class PrometheusReporterMetrics implements ReporterMetrics {
    private final Counter spans;
    private final Counter spansDropped;
    private final Counter messages;
    private final Counter messagesDropped;
    private final Gauge queuedSpans;

    PrometheusReporterMetrics(PrometheusRegistry registry) {
      spans = Counter.builder().name("mixer_trace_spans_total")
          .help("Spans handed to the Zipkin reporter.").register(registry);
      spansDropped = Counter.builder().name("mixer_trace_spans_dropped_total")
          .help("Spans dropped: the reporter's queue was full, or Zipkin did not take the message.")
          .register(registry);
      messages = Counter.builder().name("mixer_trace_messages_total")
          .help("Messages (batches of spans) sent to Zipkin.").register(registry);
      messagesDropped = Counter.builder().name("mixer_trace_messages_dropped_total")
          .help("Messages to Zipkin that failed (Zipkin down, slow or refusing).").register(registry);
      queuedSpans = Gauge.builder().name("mixer_trace_queued_spans")
          .help("Spans waiting to be sent to Zipkin.").register(registry);
    }

    @Override
    public void incrementMessages() {
      messages.inc();
    }

    @Override
    public void incrementMessagesDropped(Throwable cause) {
      messagesDropped.inc();
      log.debug("spans not sent to Zipkin: {}", cause.toString());
    }

    @Override
    public void incrementSpans(int quantity) {
      spans.inc(quantity);
    }

    @Override
    public void incrementSpanBytes(int quantity) {}

    @Override
    public void incrementMessageBytes(int quantity) {}

    @Override
    public void incrementSpansDropped(int quantity) {
      spansDropped.inc(quantity);
    }

    @Override
    public void updateQueuedSpans(int update) {
      queuedSpans.set(update);
    }

    @Override
    public void updateQueuedBytes(int update) {}
  }
}
