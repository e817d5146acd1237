package io.istio4j.pilot.discovery;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code pilot-discovery loadtest}: the scale harness (hidden; see docs/performance.md, "Pilot scale"). */
@Command(name = "loadtest", hidden = true, mixinStandardHelpOptions = true,
    description = "Measures push latency and heap at scale (1000 services, 5000 endpoints, 100 ADS clients).")
final class LoadTestCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    System.err.println("pilot-discovery loadtest: needs the xDS server (pilot/xds), not in this build yet");
    return 2;
  }
}
