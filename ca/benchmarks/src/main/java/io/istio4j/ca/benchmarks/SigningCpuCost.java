package io.istio4j.ca.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.Callable;

/**
 * The CPU cost of the operations {@link SigningBenchmark} measures, as operations per CPU-second of
 * the measuring thread: on a machine shared with other work, wall-clock throughput says more about
 * the neighbours than about the code, thread CPU time much less so.
 *
 * <pre>java -cp ca/benchmarks/target/ca-benchmarks.jar io.istio4j.ca.benchmarks.SigningCpuCost [SECONDS_OF_CPU]</pre>
 */
public final class SigningCpuCost {

  private SigningCpuCost() {}

  /** Prints operations per CPU-second for each operation and key type. */
  public static void main(String[] args) throws Exception {
    double cpuSeconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    for (String algorithm : new String[] {"ECDSA_P256", "RSA_2048"}) {
      SigningBenchmark b = new SigningBenchmark();
      b.algorithm = algorithm;
      b.setUp();
      measure(mx, algorithm + " csrToPemChain", b::csrToPemChain, cpuSeconds);
      measure(mx, algorithm + " signOnly", b::signOnly, cpuSeconds);
      measure(mx, algorithm + " parseCsr", b::parseCsr, cpuSeconds);
    }
  }

  private static void measure(ThreadMXBean mx, String name, Callable<?> op, double cpuSeconds) throws Exception {
    long warm = mx.getCurrentThreadCpuTime() + (long) (cpuSeconds * 0.5e9);
    while (mx.getCurrentThreadCpuTime() < warm) {
      op.call();
    }
    long start = mx.getCurrentThreadCpuTime();
    long end = start + (long) (cpuSeconds * 1e9);
    long n = 0;
    long now;
    do {
      for (int i = 0; i < 20; i++) {
        op.call();
      }
      n += 20;
      now = mx.getCurrentThreadCpuTime();
    } while (now < end);
    System.out.printf("%-26s %8.0f ops per CPU-second (%.1f us/op)%n", name, n / ((now - start) / 1e9),
        (now - start) / 1e3 / n);
  }
}
