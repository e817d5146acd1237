package io.istio4j.mixer.client;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.istio4j.mixer.attribute.GoDuration;
import io.istio4j.mixer.transport.RawMarshaller;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.mixerclient.Attributes;
import io.istio4j.mixerclient.CheckResult;
import io.istio4j.mixerclient.ClientStats;
import io.istio4j.mixerclient.FailPolicy;
import io.istio4j.mixerclient.MixerClient;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
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

  @Option(names = "--client-cache",
      description = "Check through the Java client library (istio4j-mixer-client) with its Check cache and quota "
          + "prefetch, --concurrency threads each calling check in a loop; prints the cache's hit ratio.")
  boolean clientCache;

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
      if (concurrency < 1 || connections < 1 || records < 1 || measured.isNegative() || measured.isZero()
          || warm.isNegative() || measured.compareTo(Mixc.LONGEST) > 0 || warm.compareTo(Mixc.LONGEST) > 0) {
        throw new IllegalArgumentException("--concurrency, --connections and --records must be >= 1, "
            + "--duration > 0, --warmup >= 0, both at most " + GoDuration.format(Mixc.LONGEST));
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

    if (clientCache) {
      if (loadTarget != LoadTarget.check) {
        return usageError(new IllegalArgumentException("--client-cache: only with --target check"));
      }
      return runWithClient(out, warm, measured);
    }
    ManagedChannel[] channels = new ManagedChannel[connections];
    for (int i = 0; i < connections; i++) {
      channels[i] = target.directChannel();
    }
    try {
      Integer refused = firstCall(channels[0], method, request);
      if (refused != null) {
        return refused;
      }
      Result r = run(channels, method, request, warm, measured);
      r.print(out, loadTarget.name(), concurrency, connections, loadTarget == LoadTarget.report ? records : 0);
      out.flush();
      return r.exitCode();
    } finally {
      for (ManagedChannel c : channels) {
        c.shutdownNow();
      }
    }
  }

  private static <Q, R> MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<Q, R> m) {
    return m.toBuilder(RawMarshaller.INSTANCE, RawMarshaller.INSTANCE).build();
  }

  private CallOptions callOptions() {
    return CallOptions.DEFAULT.withDeadlineAfter(target.timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * One call before the run: an unreachable Mixer ends the command at once with the reason (exit
   * {@link Mixc#RPC_FAILED}) instead of a run of fast failures, and a Check that Mixer answers with an
   * error status is named before seconds are spent measuring that error.
   *
   * @return the exit code when the run cannot start, else null
   */
  private Integer firstCall(ManagedChannel channel, MethodDescriptor<byte[], byte[]> method, byte[] request) {
    PrintWriter err = spec.commandLine().getErr();
    byte[] response;
    try {
      response = ClientCalls.blockingUnaryCall(channel, method, callOptions(), request);
    } catch (StatusRuntimeException e) {
      err.println("mixc: load: the first " + loadTarget + " call failed with: " + describe(e.getStatus(), target.mixer));
      err.flush();
      return Mixc.RPC_FAILED;
    }
    if (loadTarget == LoadTarget.check && ResponseStatus.checkCode(response) != 0) {
      err.println("mixc: load: Mixer answers this Check with " + checkStatusText(response)
          + "; the run counts every such answer as an error (give the attributes the config's rules need, "
          + "e.g. -s destination.service=...)");
      err.flush();
    }
    return null;
  }

  /** {@code CODE (message)} of a Check response's precondition. */
  static String checkStatusText(byte[] response) {
    return Status.fromCodeValue(ResponseStatus.checkCode(response)).getCode() + checkMessage(response);
  }

  /** {@code " (message)"} of a Check response's precondition, or ""; parses, so only on first sight of a code. */
  static String checkMessage(byte[] response) {
    try {
      String message = CheckResponse.parseFrom(response).getPrecondition().getStatus().getMessage();
      return message.isEmpty() ? "" : " (" + message + ")";
    } catch (InvalidProtocolBufferException e) {
      return " (unreadable CheckResponse: " + e.getMessage() + ")";
    }
  }

  /** Counts per status code; the text of the first answer with each code names the cause. */
  static final class Tally {
    final AtomicLong count = new AtomicLong();
    final String first;

    Tally(String first) {
      this.first = first;
    }

    @Override
    public String toString() {
      return count.get() + first;
    }
  }

  private Result run(ManagedChannel[] channels, MethodDescriptor<byte[], byte[]> method, byte[] request,
      Duration warm, Duration measured) throws InterruptedException {
    Recorder recorder = new Recorder(3);
    AtomicLong requests = new AtomicLong();
    AtomicLong ok = new AtomicLong();
    long start = System.nanoTime();
    long measureFrom = start + warm.toNanos();
    long end = measureFrom + measured.toNanos();
    CountDownLatch done = new CountDownLatch(concurrency);
    Map<String, Tally> rpcErrors = new ConcurrentHashMap<>();
    Map<String, Tally> notOk = new ConcurrentHashMap<>();
    LoadTarget what = loadTarget;

    for (int w = 0; w < concurrency; w++) {
      ManagedChannel channel = channels[w % channels.length];
      new Object() {
        /** Calls started minus calls this worker's loop has handled: a call that fails inside
         *  {@code asyncUnaryCall} (fail-fast on a dead connection) must not recurse into the next. */
        final AtomicInteger pending = new AtomicInteger();

        void next() {
          if (pending.getAndIncrement() != 0) {
            return;
          }
          int missed = 1;
          do {
            startOne();
            missed = pending.addAndGet(-missed);
          } while (missed != 0);
        }

        void startOne() {
          long t0 = System.nanoTime();
          if (t0 >= end) {
            done.countDown();
            return;
          }
          ClientCalls.asyncUnaryCall(channel.newCall(method, callOptions()), request,
              new StreamObserver<>() {
                byte[] response;

                @Override
                public void onNext(byte[] value) {
                  response = value;
                }

                @Override
                public void onError(Throwable t) {
                  finish(t0, Status.fromThrowable(t), null);
                }

                @Override
                public void onCompleted() {
                  finish(t0, null, response);
                }
              });
        }

        void finish(long t0, Status failed, byte[] response) {
          long t1 = System.nanoTime();
          if (t0 >= measureFrom && t1 <= end) {
            requests.incrementAndGet();
            if (failed != null) {
              rpcErrors.computeIfAbsent(failed.getCode().name(), k -> new Tally("")).count.incrementAndGet();
            } else {
              recorder.recordValue((t1 - t0) / 1000);
              String code = answerCode(what, response);
              if (code == null) {
                ok.incrementAndGet();
              } else {
                notOk.computeIfAbsent(code, k -> new Tally(what == LoadTarget.check
                    ? checkMessage(response) : "")).count.incrementAndGet();
              }
            }
          }
          next();
        }
      }.next();
    }
    long waitNanos = end - System.nanoTime() + target.timeout.toNanos() + TimeUnit.SECONDS.toNanos(5);
    done.await(waitNanos, TimeUnit.NANOSECONDS);
    Histogram h = recorder.getIntervalHistogram();
    return new Result(requests.get(), ok.get(), measured, h, rpcErrors, notOk);
  }

  /**
   * The load through {@link MixerClient}: each of {@code --concurrency} threads calls {@code check}
   * in a loop, so a cache hit costs what the library costs and a miss what Mixer costs.
   */
  private int runWithClient(PrintWriter out, Duration warm, Duration measured) throws InterruptedException {
    Attributes.Builder b = Attributes.builder();
    Map<String, Long> asked;
    try {
      attributeMap().forEach(b::put);
      asked = CheckCommand.parseQuotas(quotas);
    } catch (IllegalArgumentException e) {
      return usageError(e);
    }
    Attributes attrs = b.build();
    Map.Entry<String, Long> quota = asked.isEmpty() ? null : asked.entrySet().iterator().next();
    ManagedChannel channel = target.channel();
    MixerClient client = MixerClient.builder().channel(channel)
        .checkTimeout(target.timeout).failPolicy(FailPolicy.CLOSE).build();
    try {
      CheckResult first = client.check(attrs, quota == null ? null : quota.getKey(), quota == null ? 0 : quota.getValue());
      if (first.source() == CheckResult.Source.FAIL_CLOSE) {
        spec.commandLine().getErr().println("mixc: load: the first check failed with: " + first.message()
            + " (Mixer at " + target.mixer + ")");
        spec.commandLine().getErr().flush();
        return Mixc.RPC_FAILED;
      }
      Recorder recorder = new Recorder(3);
      AtomicLong requests = new AtomicLong();
      AtomicLong ok = new AtomicLong();
      Map<String, Tally> rpcErrors = new ConcurrentHashMap<>();
      Map<String, Tally> notOk = new ConcurrentHashMap<>();
      long measureFrom = System.nanoTime() + warm.toNanos();
      long end = measureFrom + measured.toNanos();
      ClientStats[] atStart = new ClientStats[1];
      Thread[] workers = new Thread[concurrency];
      for (int w = 0; w < concurrency; w++) {
        workers[w] = new Thread(() -> {
          long n = 0;
          long okCount = 0;
          while (true) {
            long t0 = System.nanoTime();
            if (t0 >= end) {
              break;
            }
            CheckResult r = client.check(attrs, quota == null ? null : quota.getKey(),
                quota == null ? 0 : quota.getValue());
            long t1 = System.nanoTime();
            if (t0 >= measureFrom && t1 <= end) {
              n++;
              recorder.recordValue(Math.max(0, (t1 - t0) / 1000));
              if (r.source() == CheckResult.Source.FAIL_CLOSE) {
                rpcErrors.computeIfAbsent("UNAVAILABLE", k -> new Tally(" (" + r.message() + ")")).count.incrementAndGet();
              } else if (r.allowed()) {
                okCount++;
              } else {
                notOk.computeIfAbsent(r.toStatus().getCode().name(), k -> new Tally(" (" + r.message() + ")"))
                    .count.incrementAndGet();
              }
            }
          }
          requests.addAndGet(n);
          ok.addAndGet(okCount);
        }, "mixc-load-" + w);
      }
      for (Thread t : workers) {
        t.start();
      }
      Thread.sleep(Math.max(0, (measureFrom - System.nanoTime()) / 1_000_000));
      atStart[0] = client.stats();
      for (Thread t : workers) {
        t.join();
      }
      ClientStats s = client.stats();
      Result r = new Result(requests.get(), ok.get(), measured, recorder.getIntervalHistogram(), rpcErrors, notOk);
      r.print(out, "check (client cache)", concurrency, 1, 0);
      long checks = s.checks() - atStart[0].checks();
      long hits = s.checkCacheHits() - atStart[0].checkCacheHits();
      out.printf(Locale.ROOT, "%-12s %d of %d checks (%.2f%%), %d calls to Mixer, %d quota units from the pool%n",
          "cache hits", hits, checks, checks == 0 ? 0.0 : 100.0 * hits / checks,
          s.remoteChecks() - atStart[0].remoteChecks(), s.quotaPoolGrants() - atStart[0].quotaPoolGrants());
      out.flush();
      return r.exitCode();
    } finally {
      client.close();
      channel.shutdownNow();
    }
  }

  /** The status code name of an answer that is not OK, or null for OK. */
  private static String answerCode(LoadTarget what, byte[] response) {
    switch (what) {
      case check -> {
        int code = ResponseStatus.checkCode(response);
        return code == 0 ? null : Status.fromCodeValue(code).getCode().name();
      }
      case health -> {
        return response != null && ResponseStatus.serving(response) ? null : "NOT_SERVING";
      }
      default -> {
        return null;
      }
    }
  }

  /**
   * A run's counts: {@code requests} completed in the measured window, of which {@code ok} were
   * answered OK; the rest failed as calls ({@code rpcErrors}) or were answered with an error status
   * ({@code notOk}: a Check's precondition status, a health check not SERVING).
   */
  record Result(long requests, long ok, Duration duration, Histogram latencyMicros,
      Map<String, Tally> rpcErrors, Map<String, Tally> notOk) {

    long errors() {
      return requests - ok;
    }

    static long total(Map<String, Tally> tallies) {
      return tallies.values().stream().mapToLong(t -> t.count.get()).sum();
    }

    /** 0 when some request succeeded; else 3 if calls failed (or none completed), 1 if all were denied. */
    int exitCode() {
      if (ok > 0) {
        return Mixc.OK;
      }
      return requests == 0 || !rpcErrors.isEmpty() ? Mixc.RPC_FAILED : Mixc.DENIED;
    }

    /** Prints the table and the JSON line; {@code records} per request for Report (else 0). */
    void print(PrintWriter out, String target, int concurrency, int connections, int records) {
      double seconds = duration.toNanos() / 1e9;
      double rps = requests / seconds;
      long rpcFailed = total(rpcErrors);
      long answeredNotOk = total(notOk);
      out.printf(Locale.ROOT, "%-12s %s%n", "target", target);
      out.printf(Locale.ROOT, "%-12s %d (over %d connection%s)%n", "concurrency", concurrency, connections,
          connections == 1 ? "" : "s");
      out.printf(Locale.ROOT, "%-12s %.1fs%n", "duration", seconds);
      out.printf(Locale.ROOT, "%-12s %d%n", "requests", requests);
      out.printf(Locale.ROOT, "%-12s %d%n", "ok", ok);
      out.printf(Locale.ROOT, "%-12s %d%n", "errors", errors());
      out.printf(Locale.ROOT, "%-12s %d%s%n", "  rpc", rpcFailed, rpcErrors.isEmpty() ? "" : " " + rpcErrors);
      out.printf(Locale.ROOT, "%-12s %d%s%n", "  status", answeredNotOk, notOk.isEmpty() ? "" : " " + notOk);
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
              + "\"ok\":%d,\"errors\":%d,\"rpc_errors\":%d,\"status_errors\":%d,\"rps\":%.1f,%s"
              + "\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d}%n",
          target, concurrency, connections, seconds, requests, ok, errors(), rpcFailed, answeredNotOk, rps,
          records > 0 ? String.format(Locale.ROOT, "\"recordsPerRequest\":%d,\"recordsPerSecond\":%.1f,",
              records, rps * records) : "",
          pct(50), pct(90), pct(99), pct(99.9), latencyMicros.getMaxValue());
    }

    private long pct(double p) {
      return latencyMicros.getValueAtPercentile(p);
    }
  }
}
