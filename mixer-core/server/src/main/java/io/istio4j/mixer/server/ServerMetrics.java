package io.istio4j.mixer.server;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * Mixer's own metrics, served on the monitoring port: gRPC server metrics named as
 * go-grpc-prometheus names them (what upstream Mixer exposed), decode outcomes, and JVM metrics.
 */
final class ServerMetrics implements ServerInterceptor {

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter started;
  private final Counter handled;
  private final Histogram handling;
  private final Counter rejected;
  private final CounterDataPoint dropped;

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
        .help("Requests answered INVALID_ARGUMENT because they could not be decoded.")
        .labelNames("method")
        .register(registry);
    dropped = Counter.builder()
        .name("mixer_check_attributes_dropped_total")
        .help("Check attributes left out of the bag because of an index outside both dictionaries.")
        .register(registry);
    JvmMetrics.builder().register(registry);
  }

  PrometheusRegistry registry() {
    return registry;
  }

  void requestRejected(String method) {
    rejected.labelValues(method).inc();
  }

  void attributesDropped(int n) {
    dropped.inc(n);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String type = call.getMethodDescriptor().getType().name().toLowerCase(java.util.Locale.ROOT);
    String service = call.getMethodDescriptor().getServiceName();
    String method = call.getMethodDescriptor().getBareMethodName();
    long start = System.nanoTime();
    started.labelValues(type, service, method).inc();
    return next.startCall(new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        handled.labelValues(type, service, method, status.getCode().name()).inc();
        handling.labelValues(type, service, method).observe((System.nanoTime() - start) / 1e9);
        super.close(status, trailers);
      }
    }, headers);
  }
}
