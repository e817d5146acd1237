package io.istio4j.ca.benchmarks;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import io.istio4j.ca.api.v1.IstioCertificateRequest;
import io.istio4j.ca.api.v1.IstioCertificateResponse;
import io.istio4j.ca.api.v1.IstioCertificateServiceGrpc;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * A CreateCertificate load run against a running CA over mutual TLS. The CSRs are made before the
 * run (a client's key generation is not the CA's cost); with {@code --server-pid} it reads the
 * server's CPU time from /proc and reports signatures per server CPU-second (= per core).
 *
 * <pre>
 * java -cp ca/benchmarks/target/ca-benchmarks.jar io.istio4j.ca.benchmarks.CaLoad \
 *     ADDRESS CERT_DIR SECONDS CONCURRENCY CHANNELS [KEY_ALGORITHM] [SERVER_PID]
 * </pre>
 *
 * <p>CERT_DIR holds key.pem, cert-chain.pem, root-cert.pem of an identity ({@code istio-ca issue});
 * the CSRs ask for that identity.
 */
public final class CaLoad {

  private CaLoad() {}

  /** Runs the load; see the class comment for the arguments. */
  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: CaLoad ADDRESS CERT_DIR SECONDS CONCURRENCY CHANNELS [ECDSA_P256|RSA_2048] [SERVER_PID]");
      System.exit(2);
    }
    String address = args[0];
    Path certs = Path.of(args[1]);
    int seconds = Integer.parseInt(args[2]);
    int concurrency = Integer.parseInt(args[3]);
    int channels = Integer.parseInt(args[4]);
    KeyAlgorithm algorithm = args.length > 5 ? KeyAlgorithm.parse(args[5]) : KeyAlgorithm.ECDSA_P256;
    long pid = args.length > 6 ? Long.parseLong(args[6]) : -1;

    String chain = Files.readString(certs.resolve("cert-chain.pem"));
    X509Certificate leaf = Pem.readCertificates(chain, "cert-chain.pem").get(0);
    String uri = null;
    for (List<?> san : leaf.getSubjectAlternativeNames()) {
      if (Integer.valueOf(6).equals(san.get(0))) {
        uri = (String) san.get(1);
      }
    }
    SpiffeId id = SpiffeId.parse(uri);
    List<IstioCertificateRequest> requests = new ArrayList<>();
    for (int i = 0; i < 256; i++) {
      requests.add(IstioCertificateRequest.newBuilder()
          .setCsr(CertificateSigningRequest.create(algorithm.generate(), List.of(SubjectAltName.uri(id)))).build());
    }
    List<ManagedChannel> pool = new ArrayList<>();
    for (int i = 0; i < channels; i++) {
      ChannelCredentials creds = TlsChannelCredentials.newBuilder()
          .keyManager(stream(chain), stream(Files.readString(certs.resolve("key.pem"))))
          .trustManager(stream(Files.readString(certs.resolve("root-cert.pem"))))
          .build();
      pool.add(Grpc.newChannelBuilder(address, creds).overrideAuthority("istio-ca").build());
    }
    // Warm-up: connections, TLS, JIT on both sides.
    run(pool, requests, concurrency, 5, null);
    long cpuBefore = pid > 0 ? cpuTicks(pid) : 0;
    Recorder latencies = new Recorder(3);
    long[] result = run(pool, requests, concurrency, seconds, latencies);
    long cpuAfter = pid > 0 ? cpuTicks(pid) : 0;
    var h = latencies.getIntervalHistogram();
    double rate = result[0] / (double) seconds;
    System.out.printf("CreateCertificate %s: %d ok, %d errors in %d s = %.0f/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
        algorithm, result[0], result[1], seconds, rate, h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
        h.getMaxValue() / 1e6);
    if (pid > 0) {
      double cpuSeconds = (cpuAfter - cpuBefore) / 100.0; // USER_HZ
      System.out.printf("server CPU %.1f s over %d s (%.2f cores): %.0f signatures per server CPU-second%n", cpuSeconds,
          seconds, cpuSeconds / seconds, result[0] / cpuSeconds);
    }
    for (ManagedChannel c : pool) {
      c.shutdownNow();
    }
  }

  private static long[] run(List<ManagedChannel> pool, List<IstioCertificateRequest> requests, int concurrency,
      int seconds, Recorder latencies) throws InterruptedException {
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicLong ok = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    List<IstioCertificateServiceGrpc.IstioCertificateServiceStub> stubs = new ArrayList<>();
    for (ManagedChannel c : pool) {
      stubs.add(IstioCertificateServiceGrpc.newStub(c));
    }
    long n = 0;
    while (System.nanoTime() < end) {
      inFlight.acquire();
      long start = System.nanoTime();
      stubs.get((int) (n % stubs.size())).createCertificate(requests.get((int) (n % requests.size())),
          new StreamObserver<IstioCertificateResponse>() {
            @Override
            public void onNext(IstioCertificateResponse value) {}

            @Override
            public void onError(Throwable t) {
              errors.incrementAndGet();
              inFlight.release();
            }

            @Override
            public void onCompleted() {
              if (latencies != null) {
                latencies.recordValue(System.nanoTime() - start);
              }
              ok.incrementAndGet();
              inFlight.release();
            }
          });
      n++;
    }
    inFlight.acquire(concurrency);
    inFlight.release(concurrency);
    return new long[] {ok.get(), errors.get()};
  }

  private static long cpuTicks(long pid) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime
  }

  private static ByteArrayInputStream stream(String s) {
    return new ByteArrayInputStream(s.getBytes(UTF_8));
  }
}
