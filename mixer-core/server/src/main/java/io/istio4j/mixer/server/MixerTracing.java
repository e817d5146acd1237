package io.istio4j.mixer.server;

import brave.propagation.SamplingFlags;
import brave.propagation.TraceContext;
import brave.propagation.TraceContextOrSamplingFlags;
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
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import zipkin2.reporter.Encoding;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Mixer's tracing ({@code --zipkinURL}): spans of the service {@code istio-mixer}, sent to Zipkin
 * through a bounded asynchronous pipeline ({@link ZipkinSpanPipeline}) over zipkin-reporter's HTTP
 * sender, so a slow or dead Zipkin costs a request nothing: spans wait in bounded queues that
 * background threads encode and send in batches, and when a queue is full new spans are dropped and
 * counted on {@code /metrics}.
 *
 * <p>The {@link #interceptor()} reads the caller's B3 headers from the gRPC metadata, lets Brave's
 * {@link Sampler} decide for calls that bring no decision, and starts Mixer's server span as a child
 * of the caller's span; the runtime gets it through {@link GrpcCallContext} and records one child per
 * handler call. Spans are {@link RecordedSpan}s rather than Brave's: docs/RATIONALE.md says why.
 * Disabled, there is no interceptor and nothing is recorded.
 */
final class MixerTracing implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MixerTracing.class);

  /** The service name Mixer's spans carry, as upstream's. */
  static final String SERVICE_NAME = "istio-mixer";

  /** Spans waiting to be encoded; beyond this new spans are dropped. */
  static final int QUEUED_MAX_SPANS = 10_000;

  /**
   * The largest message to Zipkin: about 3,000 of Mixer's spans. Each post costs the sending thread
   * far more than the bytes in it (a connection check, headers, a response to read), so fewer,
   * larger messages cost less; 512 KiB is about zipkin-reporter's default.
   */
  static final int MESSAGE_MAX_BYTES = 512 * 1024;

  /** Messages waiting to be posted (8 MiB at most); beyond this new ones are dropped. */
  static final int QUEUED_MAX_MESSAGES = 16;

  /** A partly filled message is sent after this long. */
  static final long MESSAGE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final MixerTracing DISABLED = new MixerTracing(null, null, null);

  private final @Nullable Sampler sampler;
  private final @Nullable ZipkinSpanPipeline pipeline;
  private final @Nullable Counter malformed;

  private MixerTracing(@Nullable Sampler sampler, @Nullable ZipkinSpanPipeline pipeline, @Nullable Counter malformed) {
    this.sampler = sampler;
    this.pipeline = pipeline;
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
        // type): fewer, smaller bytes, no escaping, and ids written as the longs they are.
        .encoding(Encoding.PROTO3)
        // No gzip: Zipkin is normally in the cluster, and compressing every message costs Mixer
        // CPU that its requests need more than the network needs the bytes.
        .compressionEnabled(false)
        .messageMaxBytes(MESSAGE_MAX_BYTES)
        // Short timeouts: the sending thread is the only one that waits on Zipkin, and a stuck
        // send only makes the queues fill and drop sooner.
        .connectTimeout(1_000)
        .readTimeout(5_000)
        .build();
    ZipkinSpanPipeline pipeline = new ZipkinSpanPipeline(sender,
        new ZipkinProto3Encoder(SERVICE_NAME, ZipkinProto3Encoder.siteLocalAddress()),
        new PrometheusPipelineMetrics(registry), QUEUED_MAX_SPANS, QUEUED_MAX_MESSAGES, MESSAGE_TIMEOUT_NANOS,
        TimeUnit.SECONDS.toNanos(1));
    Counter malformed = Counter.builder()
        .name("mixer_trace_b3_malformed_total")
        .help("Calls whose B3 trace headers could not be read; each started a new trace.")
        .register(registry);
    log.info("tracing to {} as {}, sampling {} of calls without a caller's decision", options.zipkinUrl(),
        SERVICE_NAME, options.sampleRate());
    return new MixerTracing(Sampler.create(options.sampleRate()), pipeline, malformed);
  }

  boolean enabled() {
    return pipeline != null;
  }

  /** Reads B3 metadata and traces the call; null when tracing is off. */
  @Nullable ServerInterceptor interceptor() {
    return pipeline == null ? null : new TracingInterceptor(sampler, pipeline, malformed);
  }

  /** Where {@code Env.reportSpan} sends spans (the tracespan adapter's). */
  SpanReporter spanReporter() {
    return pipeline == null ? SpanReporter.NONE : this::report;
  }

  /** Queues a span recorded elsewhere, as its own service, with the pipeline Mixer's spans use. */
  boolean report(ReportedSpan r) {
    if (pipeline == null) {
      return false;
    }
    String t = r.traceId();
    RecordedSpan span = RecordedSpan.finished(pipeline,
        t.length() == 32 ? Long.parseUnsignedLong(t.substring(0, 16), 16) : 0,
        Long.parseUnsignedLong(t.substring(t.length() - 16), 16),
        r.parentSpanId() == null ? 0 : Long.parseUnsignedLong(r.parentSpanId(), 16),
        Long.parseUnsignedLong(r.spanId(), 16), r.name(), r.serviceName(),
        RecordedSpan.micros(r.start()), RecordedSpan.micros(r.end()));
    for (Map.Entry<String, String> tag : r.tags().entrySet()) {
      span.putTag(tag.getKey(), tag.getValue());
    }
    return pipeline.add(span);
  }

  /** Sends what is queued (waiting at most the close timeout) and stops the pipeline. */
  @Override
  public void close() {
    if (pipeline != null) {
      pipeline.close();
    }
  }

  /** Starts Mixer's server span of a call, child of the caller's span when B3 metadata names one. */
  private static final class TracingInterceptor implements ServerInterceptor {
    private final Sampler sampler;
    private final ZipkinSpanPipeline pipeline;
    private final Counter malformed;

    TracingInterceptor(Sampler sampler, ZipkinSpanPipeline pipeline, Counter malformed) {
      this.sampler = sampler;
      this.pipeline = pipeline;
      this.malformed = malformed;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
        ServerCallHandler<Q, R> next) {
      B3Metadata.Extracted extracted = B3Metadata.extract(headers);
      if (extracted.malformed()) {
        malformed.inc();
      }
      RecordedSpan server = start(extracted.value(), call.getMethodDescriptor().getFullMethodName());
      if (server == null) {
        return next.startCall(call, headers); // not sampled: record nothing
      }
      SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
      if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
        server.remote(inet.getAddress().getAddress(), inet.getPort());
      }
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

    /**
     * The call's server span as Brave's tracer would start it, or null when not sampled: a child of
     * the caller's span (same trace, the caller's decision), or a new trace with the caller's
     * sampling flags, or one the sampler decides on.
     */
    private @Nullable RecordedSpan start(@Nullable TraceContextOrSamplingFlags extracted, String name) {
      TraceContext parent = extracted == null ? null : extracted.context();
      if (parent != null) {
        boolean debug = parent.debug();
        Boolean sampled = parent.sampled();
        boolean record = debug || (sampled != null ? sampled : sampler.isSampled(parent.traceId()));
        return record ? RecordedSpan.start(pipeline, parent.traceIdHigh(), parent.traceId(), parent.spanId(), debug,
            RecordedSpan.SERVER, name) : null;
      }
      SamplingFlags flags = extracted == null ? SamplingFlags.EMPTY : extracted.samplingFlags();
      long traceId = RecordedSpan.nextId();
      boolean debug = flags.debug();
      Boolean sampled = flags.sampled();
      boolean record = debug || (sampled != null ? sampled : sampler.isSampled(traceId));
      if (!record) {
        return null;
      }
      // A 128-bit trace id whose high half starts with the epoch seconds, as Brave's traceId128Bit.
      long high = System.currentTimeMillis() / 1000 << 32 | ThreadLocalRandom.current().nextInt() & 0xFFFFFFFFL;
      return RecordedSpan.start(pipeline, high, traceId, 0, debug, RecordedSpan.SERVER, name);
    }

    /** Tags and finishes the server span once: a cancelled call may also be closed. */
    private static void finish(RecordedSpan span, Status status) {
      span.tag("grpc.status_code", status.getCode().name());
      if (!status.isOk()) {
        span.tag("error", status.getDescription() != null ? status.getDescription() : status.getCode().name());
      }
      span.finish();
    }
  }

  /** The pipeline's counts as Mixer metrics: spans, spans dropped, messages sent and failed, spans waiting. */
  private static final class PrometheusPipelineMetrics implements ZipkinSpanPipeline.Metrics {
    private final Counter spans;
    private final Counter spansDropped;
    private final Counter messages;
    private final Counter messagesDropped;
    private final Gauge queuedSpans;

    PrometheusPipelineMetrics(PrometheusRegistry registry) {
      spans = Counter.builder().name("mixer_trace_spans_total")
          .help("Spans recorded and handed to the Zipkin sender's queue.").register(registry);
      spansDropped = Counter.builder().name("mixer_trace_spans_dropped_total")
          .help("Spans dropped: a queue was full, the span was larger than a message, or Zipkin did not take it.")
          .register(registry);
      messages = Counter.builder().name("mixer_trace_messages_total")
          .help("Messages (batches of spans) sent to Zipkin.").register(registry);
      messagesDropped = Counter.builder().name("mixer_trace_messages_dropped_total")
          .help("Messages to Zipkin that failed (Zipkin down, slow or refusing).").register(registry);
      queuedSpans = Gauge.builder().name("mixer_trace_queued_spans")
          .help("Spans waiting to be sent to Zipkin.").register(registry);
    }

    @Override
    public void spans(int n) {
      spans.inc(n);
    }

    @Override
    public void spansDropped(int n) {
      spansDropped.inc(n);
    }

    @Override
    public void message() {
      messages.inc();
    }

    @Override
    public void messageDropped(Throwable cause) {
      messagesDropped.inc();
      log.debug("spans not sent to Zipkin: {}", cause.toString());
    }

    @Override
    public void queued(int n) {
      queuedSpans.set(n);
    }
  }
}
