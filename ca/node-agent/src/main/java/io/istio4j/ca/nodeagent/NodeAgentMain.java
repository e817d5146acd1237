package io.istio4j.ca.nodeagent;

import io.istio4j.ca.Durations;
import io.istio4j.ca.KeyAlgorithm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code node-agent}: keeps a VM's workload certificate renewed (flags as Istio 0.2's node_agent). */
@Command(name = "node-agent", mixinStandardHelpOptions = true, version = "istio4j node-agent 0.1.0",
    description = "Keeps a VM's SPIFFE certificate renewed with the Istio CA over mutual TLS.")
public final class NodeAgentMain implements Callable<Integer> {

  @Option(names = "--ca-address", defaultValue = "istio-ca:8060", description = "CA host:port (default: ${DEFAULT-VALUE}).")
  String caAddress;

  @Option(names = "--ca-hostname",
      description = "Name the CA's serving certificate must carry (default: the host of --ca-address).")
  @Nullable String caHostname;

  @Option(names = "--cert-chain", defaultValue = "/etc/certs/cert-chain.pem", description = "(default: ${DEFAULT-VALUE})")
  Path certChain;

  @Option(names = "--key", defaultValue = "/etc/certs/key.pem", description = "(default: ${DEFAULT-VALUE})")
  Path key;

  @Option(names = "--root-cert", defaultValue = "/etc/certs/root-cert.pem", description = "(default: ${DEFAULT-VALUE})")
  Path rootCert;

  @Option(names = "--key-algorithm", defaultValue = "ECDSA_P256",
      description = "ECDSA_P256 or RSA_2048 (default: ${DEFAULT-VALUE}).")
  String keyAlgorithm;

  @Option(names = "--csr-grace-period-percentage", defaultValue = "50",
      description = "Renew when this percentage of the lifetime is left (default: ${DEFAULT-VALUE}).")
  int gracePercentage;

  @Option(names = "--workload-cert-ttl", defaultValue = "0s",
      description = "Lifetime to ask for (default: the CA's).")
  String ttl;

  @Option(names = "--initial-backoff", defaultValue = "5s", description = "(default: ${DEFAULT-VALUE})")
  String initialBackoff;

  @Option(names = "--max-backoff", defaultValue = "5m", description = "(default: ${DEFAULT-VALUE})")
  String maxBackoff;

  @Option(names = "--legacy-api", description = "Call Istio 0.2's IstioCAService/HandleCSR instead of CreateCertificate.")
  boolean legacyApi;

  @Option(names = "--once", description = "Renew once now and exit (0 on success).")
  boolean once;

  /** Runs the agent until SIGTERM. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new NodeAgentMain()).execute(args));
  }

  @Override
  public Integer call() throws InterruptedException {
    NodeAgent agent;
    try {
      agent = new NodeAgent(new NodeAgent.Config(caAddress, caHostname, certChain, key, rootCert,
          KeyAlgorithm.parse(keyAlgorithm), gracePercentage, Durations.parse(ttl), Durations.parse(initialBackoff),
          Durations.parse(maxBackoff), legacyApi));
      agent.currentLeaf();
      NodeAgent.identity(agent.currentLeaf());
    } catch (IllegalArgumentException | IOException e) {
      System.err.println("node-agent: " + e.getMessage());
      return 2;
    }
    if (once) {
      try {
        agent.renewOnce();
        return 0;
      } catch (NodeAgent.RenewalException | IOException e) {
        System.err.println("node-agent: " + e.getMessage());
        return 1;
      }
    }
    Thread worker = new Thread(agent, "node-agent");
    for (String sig : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(sig), s -> agent.stop());
    }
    worker.start();
    worker.join();
    return 0;
  }

  static Duration duration(String s) {
    return Durations.parse(s);
  }
}
