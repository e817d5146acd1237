package io.istio4j.mixer.server;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Mixer's own metrics, served on the monitoring port: gRPC server metrics named as
 * go-grpc-prometheus names them (what upstream Mixer exposed), decode outcomes, and JVM metrics.
 *
 * <p>Calls are counted by a stream tracer, not an interceptor: the transport refuses some
 * requests (too large, an encoding it cannot decompress) without ever calling the service, and
 * those must count in {@code grpc_server_handled_total} too. A method not served here is counted
 * under {@code grpc_service="unknown"}, so a client cannot make up label values.
 */
final class ServerMetrics extends ServerStreamTracer.Factory {

  private static final String UNKNOWN = "unknown";

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter started;
  private final Counter handled;
  private final Histogram handling;
  private final Counter rejected;
  private final CounterDataPoint dropped;
  // Full method name to its data points; replaced as a whole when services are registered.
  private volatile Map<String, MethodMetrics> methods = Map.of();
  private final MethodMetrics unknown;

  ServerMetrics() {
    started = Counter.builder()
        .name("grpc_server_started_total")
        .help("Total number of RPCs started on the server.")
        .labelNames("grpc_type", "grpc_service", "grpc_method")
        .register(registry);
    handled = Counter.builder()
        .name("grpc_server_handled_total")
        .help("Total number of RPCs completed on the server, regardless of success or failure.")
        .labelNames("grpc_type", "grpc_service", "grpc_method", "grpc_code")
        .register(registry);
    handling = Histogram.builder()
        .name("grpc_server_handling_seconds")
        .help("Histogram of response latency of RPCs handled by the server.")
        .unit(Unit.SECONDS)
        .classicOnly()
        .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1, 2.5, 5, 10)
        .labelNames("grpc_type", "grpc_service", "grpc_method")
        .register(registry);
    rejected = Counter.builder()
        .name("mixer_requests_rejected_total")
        .help("Requests answered INVALID_ARGUMENT or RESOURCE_EXHAUSTED by Mixer because they could not be "
            + "decoded or decompressed.")
        .labelNames("method")
        .register(registry);
    dropped = Counter.builder()
        .name("mixer_check_attributes_dropped_total")
        .help("Check attributes left out of the bag because of an index outside both dictionaries.")
        .register(registry);
    unknown = new MethodMetrics(UNKNOWN, UNKNOWN, UNKNOWN);
    JvmMetrics.builder().register(registry);
  }

  PrometheusRegistry registry() {
    return registry;
  }

  /** Counts calls to the methods of {@code services} under their own names. */
  void register(List<ServerServiceDefinition> services) {
    Map<String, MethodMetrics> m = new HashMap<>(methods);
    for (ServerServiceDefinition s : services) {
      for (var method : s.getMethods()) {
        MethodDescriptor<?, ?> d = method.getMethodDescriptor();
        m.put(d.getFullMethodName(), new MethodMetrics(d.getType().name().toLowerCase(Locale.ROOT),
            d.getServiceName(), d.getBareMethodName()));
      }
    }
    methods = Map.copyOf(m);
  }

  void requestRejected(String method) {
    rejected.labelValues(method).inc();
  }

  void attributesDropped(int n) {
    dropped.inc(n);
  }

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    MethodMetrics m = methods.getOrDefault(fullMethodName, unknown);
    m.started.inc();
    return new CallTracer(m, System.nanoTime());
  }

  /** The data points of one method, looked up once. */
  private final class MethodMetrics {
    final String type;
    final String service;
    final String method;
    final CounterDataPoint started;
    final DistributionDataPoint seconds;
    final CounterDataPoint[] handledByCode = new CounterDataPoint[Status.Code.values().length];

    MethodMetrics(String type, String service, String method) {
      this.type = type;
      this.service = service;
      this.method = method;
      this.started = ServerMetrics.this.started.labelValues(type, service, method);
      this.seconds = handling.labelValues(type, service, method);
    }

    CounterDataPoint handled(Status.Code code) {
      CounterDataPoint p = handledByCode[code.ordinal()];
      if (p == null) { // racing threads resolve the same data point: harmless
        p = handled.labelValues(type, service, method, code.name());
        handledByCode[code.ordinal()] = p;
      }
      return p;
    }
  }

  private static final class CallTracer extends ServerStreamTracer {
    private final MethodMetrics metrics;
    private final long start;
    private final AtomicBoolean closed = new AtomicBoolean();

    CallTracer(MethodMetrics metrics, long start) {
      this.metrics = metrics;
      this.start = start;
    }

    @Override
    public void streamClosed(Status status) {
      if (closed.compareAndSet(false, true)) {
        metrics.handled(status.getCode()).inc();
        metrics.seconds.observe((System.nanoTime() - start) / 1e9);
      }
    }
  }
}
