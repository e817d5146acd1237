package io.istio4j.mixerclient.grpc;

import static java.util.Objects.requireNonNull;

import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.istio4j.mixerclient.Attributes;
import io.istio4j.mixerclient.CheckResult;
import io.istio4j.mixerclient.MixerClient;
import io.istio4j.mixerclient.RequestAttributes;
import java.net.SocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * Makes a gRPC service a Mixer client: every call is checked with Mixer before it reaches the
 * service and reported after it completes, with the attributes Envoy's mixer filter would set for it.
 *
 * <p>Before the call: {@code request.path} (the HTTP/2 {@code :path}, {@code /package.Service/Method}),
 * {@code request.method} ({@code POST}), {@code request.host} (the authority), {@code request.headers}
 * (the ASCII metadata plus {@code :authority}, {@code :path}, {@code :method}), {@code request.id},
 * {@code request.useragent}, {@code request.scheme}, {@code request.time}, {@code source.ip},
 * {@code source.port}, {@code destination.service} (configured), {@code destination.port},
 * {@code context.protocol} ({@code grpc}) and any fixed attributes given. A denied call is closed with
 * Mixer's status code and message (e.g. PERMISSION_DENIED {@code handler.denier.istio-system:Not
 * allowed}) and never reaches the service. After the call: the same plus {@code response.code} (the
 * HTTP status Envoy maps the gRPC status to, 200 for OK), {@code response.duration},
 * {@code response.time} and {@code response.headers}.
 *
 * <pre>{@code
 * MixerClient mixer = MixerClient.builder().target("istio-mixer:9091").build();
 * Server server = ServerBuilder.forPort(8080)
 *     .addService(ServerInterceptors.intercept(ratings,
 *         new MixerServerInterceptor(mixer, "ratings.default.svc.cluster.local")))
 *     .build();
 * }</pre>
 *
 * <p>The Check runs on the thread that starts the call (gRPC's application executor unless the server
 * uses {@code directExecutor()}): a cache hit costs well under a microsecond, a miss waits for Mixer
 * up to the client's check deadline.
 */
public final class MixerServerInterceptor implements ServerInterceptor {

  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> USER_AGENT =
      Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

  private final MixerClient mixer;
  private final Attributes fixed;
  private final @Nullable String quotaName;
  private final long quotaAmount;

  /** Checks and reports every call as {@code destinationService}, without quota. */
  public MixerServerInterceptor(MixerClient mixer, String destinationService) {
    this(mixer, Attributes.builder().put("destination.service", destinationService).build(), null, 0);
  }

  /**
   * Checks and reports every call with {@code fixed} attributes added (Envoy's
   * {@code mixer_attributes}: {@code destination.service}, {@code destination.uid}, ...), allocating
   * {@code quotaAmount} of {@code quotaName} per call when the name is non-null.
   */
  public MixerServerInterceptor(MixerClient mixer, Attributes fixed, @Nullable String quotaName, long quotaAmount) {
    this.mixer = requireNonNull(mixer, "mixer");
    this.fixed = requireNonNull(fixed, "fixed");
    this.quotaName = quotaName;
    this.quotaAmount = quotaAmount;
    if (quotaName != null && quotaAmount < 1) {
      throw new IllegalArgumentException("quotaAmount: " + quotaAmount + " (expected: >= 1 for " + quotaName + ")");
    }
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Instant start = Instant.now();
    long startNanos = System.nanoTime();
    Attributes request = requestAttributes(call, headers, start);
    CheckResult checked = mixer.check(request, quotaName, quotaAmount);
    if (!checked.allowed()) {
      Status denied = checked.toStatus();
      call.close(denied, new Metadata());
      mixer.report(completed(request, denied, Map.of(), startNanos));
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean reported = new AtomicBoolean();
    ServerCall<Q, R> reporting = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      private Map<String, String> responseHeaders = Map.of();

      @Override
      public void sendHeaders(Metadata md) {
        responseHeaders = RequestAttributes.asciiHeaders(md, Map.of());
        super.sendHeaders(md);
      }

      @Override
      public void close(Status status, Metadata trailers) {
        // Queued before the call ends (a non-blocking offer), so a caller that saw the answer can
        // rely on the record being in the client's queue.
        if (reported.compareAndSet(false, true)) {
          mixer.report(completed(request, status, responseHeaders, startNanos));
        }
        super.close(status, trailers);
      }
    };
    return next.startCall(reporting, headers);
  }

  private Attributes requestAttributes(ServerCall<?, ?> call, Metadata headers, Instant now) {
    String path = "/" + call.getMethodDescriptor().getFullMethodName();
    String authority = call.getAuthority();
    Map<String, String> pseudo = new LinkedHashMap<>();
    pseudo.put(":path", path);
    pseudo.put(":method", "POST");
    if (authority != null) {
      pseudo.put(":authority", authority);
    }
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    SocketAddress local = call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
    Attributes.Builder b = Attributes.builder()
        .put("request.path", path)
        .put("request.method", "POST")
        .putIfNotNull("request.host", authority)
        .put("request.headers", RequestAttributes.asciiHeaders(headers, pseudo))
        .putIfNotNull("request.id", headers.get(REQUEST_ID))
        .putIfNotNull("request.useragent", headers.get(USER_AGENT))
        .put("request.scheme", call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION) != null ? "https" : "http")
        .put("request.time", now)
        .put("context.protocol", "grpc");
    RequestAttributes.putAddress(b, "source", remote);
    RequestAttributes.putPort(b, "destination.port", local);
    return b.putAll(fixed).build();
  }

  private static Attributes completed(Attributes request, Status status, Map<String, String> responseHeaders,
      long startNanos) {
    return request.toBuilder()
        .put("response.code", (long) CheckResult.httpStatus(status.getCode().value()))
        .put("response.duration", Duration.ofNanos(System.nanoTime() - startNanos))
        .put("response.time", Instant.now())
        .put("response.headers", responseHeaders)
        .build();
  }
}
