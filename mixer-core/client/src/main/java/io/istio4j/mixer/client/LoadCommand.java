package io.istio4j.mixer.client;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.istio4j.mixer.attribute.GoDuration;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixer.v1.MixerGrpc;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code mixc load}: a closed-loop load generator. {@code --concurrency} calls are kept in flight
 * for {@code --duration}; each completion starts the next call. The request is serialized once and
 * sent as bytes, so the client spends its CPU on the transport, not on encoding.
 */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = "Generates load against Mixer and prints requests/s and latency percentiles.")
final class LoadCommand extends MixerCommand {

  enum LoadTarget { check, report, health }

  @Option(names = {"-q", "--quotas"}, description = "name=amount,... quotas to allocate with each Check.")
  String quotas;

  @Option(names = "--target", defaultValue = "check",
      description = "What to call: check, report, or health (grpc.health.v1.Health/Check, the empty-RPC baseline). Default: ${DEFAULT-VALUE}.")
  LoadTarget loadTarget;

  @Option(names = "--records", defaultValue = "1",
      description = "Records per Report (--target report), batched and delta-encoded as mixerclient does; each "
          + "record gets its own request.id, request.time and response.duration (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--concurrency", defaultValue = "16", description = "Calls in flight (default: ${DEFAULT-VALUE}).")
  int concurrency;

  @Option(names = "--connections", defaultValue = "1", description = "HTTP/2 connections (default: ${DEFAULT-VALUE}).")
  int connections;

  @Option(names = "--duration", defaultValue = "10s", description = "Measured run time (default: ${DEFAULT-VALUE}).")
  String duration;

  @Option(names = "--warmup", defaultValue = "2s", description = "Unmeasured run time first (default: ${DEFAULT-VALUE}).")
  String warmup;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = out();
    Duration measured;
    Duration warm;
    byte[] request;
    MethodDescriptor<byte[], byte[]> method;
    try {
      measured = GoDuration.parse(duration);
      warm = GoDuration.parse(warmup);
      if (concurrency < 1 || connections < 1 || records < 1 || measured.isNegative() || measured.isZero()) {
        throw new IllegalArgumentException(
            "--concurrency, --connections and --records must be >= 1, --duration > 0");
      }
      Map<String, Object> attrs = attributeMap();
      switch (loadTarget) {
        case check -> {
          request = CheckCommand.build(attrs, CheckCommand.parseQuotas(quotas)).toByteArray();
          method = raw(MixerGrpc.getCheckMethod());
        }
        case report -> {
          request = (records == 1 ? ReportCommand.build(attrs) : ReportCommand.batch(attrs, records)).toByteArray();
          method = raw(MixerGrpc.getReportMethod());
        }
        default -> {
          request = HealthCheckRequest.getDefaultInstance().toByteArray();
          method = raw(HealthGrpc.getCheckMethod());
        }
      }
    } catch (IllegalArgumentException e) {
      return usageError(e);
    }

    ManagedChannel[] channels = new ManagedChannel[connections];
    for (int i = 0; i < connections; i++) {
      channels[i] = target.directChannel();
    }
    try {
      Result r = run(channels, method, request, warm, measured);
      r.print(out, loadTarget.name(), concurrency, connections, loadTarget == LoadTarget.report ? records : 0);
      out.flush();
      return r.requests > 0 ? 0 : 1;
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
      }
    }
  }

  private static <Q, R> MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<Q, R> m) {
    return m.toBuilder(RawMarshaller.INSTANCE, RawMarshaller.INSTANCE).build();
  }

  private Result run(ManagedChannel[] channels, MethodDescriptor<byte[], byte[]> method, byte[] request,
      Duration warm, Duration measured) throws InterruptedException {
    Recorder recorder = new Recorder(3);
    AtomicLong errors = new AtomicLong();
    AtomicLong requests = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warm.toNanos();
    long end = measureFrom + measured.toNanos();
    CountDownLatch done = new CountDownLatch(concurrency);
    java.util.concurrent.ConcurrentHashMap<String, AtomicLong> errorCodes = new java.util.concurrent.ConcurrentHashMap<>();

    for (int w = 0; w < concurrency; w++) {
      ManagedChannel channel = channels[w % channels.length];
      new Object() {
        void next() {
          long t0 = System.nanoTime();
          if (t0 >= end) {
            done.countDown();
            return;
          }
          ClientCalls.asyncUnaryCall(channel.newCall(method, CallOptions.DEFAULT), request,
              new StreamObserver<>() {
                @Override
                public void onNext(byte[] value) {}

                @Override
                public void onError(Throwable t) {
                  finish(t0, false, Status.fromThrowable(t).getCode().name());
                }

                @Override
                public void onCompleted() {
                  finish(t0, true, null);
                }
              });
        }

        void finish(long t0, boolean ok, String code) {
          long t1 = System.nanoTime();
          if (t0 >= measureFrom && t1 <= end) {
            requests.incrementAndGet();
            if (ok) {
              recorder.recordValue((t1 - t0) / 1000);
            } else {
              errors.incrementAndGet();
              errorCodes.computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
            }
          }
          next();
        }
      }.next();
    }
    long waitNanos = end - System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    done.await(waitNanos, TimeUnit.NANOSECONDS);
    Histogram h = recorder.getIntervalHistogram();
    return new Result(requests.get(), errors.get(), measured, h, errorCodes);
  }

  record Result(long requests, long errors, Duration duration, Histogram latencyMicros,
      Map<String, AtomicLong> errorCodes) {

    /** Prints the table and the JSON line; {@code records} per request for Report (else 0). */
    void print(PrintWriter out, String target, int concurrency, int connections, int records) {
      double seconds = duration.toNanos() / 1e9;
      double rps = requests / seconds;
      out.printf(Locale.ROOT, "%-12s %s%n", "target", target);
      out.printf(Locale.ROOT, "%-12s %d (over %d connection%s)%n", "concurrency", concurrency, connections,
          connections == 1 ? "" : "s");
      out.printf(Locale.ROOT, "%-12s %.1fs%n", "duration", seconds);
      out.printf(Locale.ROOT, "%-12s %d%n", "requests", requests);
      out.printf(Locale.ROOT, "%-12s %d%s%n", "errors", errors, errorCodes.isEmpty() ? "" : " " + errorCodes);
      out.printf(Locale.ROOT, "%-12s %.1f%n", "requests/s", rps);
      if (records > 0) {
        out.printf(Locale.ROOT, "%-12s %.1f (%d per request)%n", "records/s", rps * records, records);
      }
      out.printf(Locale.ROOT, "%-12s %.3f ms%n", "p50", pct(50) / 1000.0);
      out.printf(Locale.ROOT, "%-12s %.3f ms%n", "p90", pct(90) / 1000.0);
      out.printf(Locale.ROOT, "%-12s %.3f ms%n", "p99", pct(99) / 1000.0);
      out.printf(Locale.ROOT, "%-12s %.3f ms%n", "p99.9", pct(99.9) / 1000.0);
      out.printf(Locale.ROOT, "%-12s %.3f ms%n", "max", latencyMicros.getMaxValue() / 1000.0);
      out.printf(Locale.ROOT,
          "{\"target\":\"%s\",\"concurrency\":%d,\"connections\":%d,\"duration_s\":%.3f,\"requests\":%d,"
              + "\"errors\":%d,\"rps\":%.1f,%s\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d}%n",
          target, concurrency, connections, seconds, requests, errors, rps,
          records > 0 ? String.format(Locale.ROOT, "\"recordsPerRequest\":%d,\"recordsPerSecond\":%.1f,",
              records, rps * records) : "",
          pct(50), pct(90), pct(99), pct(99.9), latencyMicros.getMaxValue());
    }

    private long pct(double p) {
      return latencyMicros.getValueAtPercentile(p);
    }
  }
}
