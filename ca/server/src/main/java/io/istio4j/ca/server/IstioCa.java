package io.istio4j.ca.server;

import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.Durations;
import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SecureFiles;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.auth.StaticTokenVerifier;
import io.istio4j.ca.k8s.KubernetesTokenVerifier;
import io.istio4j.ca.k8s.SecretController;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code istio-ca}: {@code serve} (the default) runs the CA; {@code issue} writes a bootstrap
 * identity (key.pem, cert-chain.pem, root-cert.pem) for a VM's node agent.
 */
@Command(name = "istio-ca", mixinStandardHelpOptions = true, version = "istio4j istio-ca 0.1.0",
    description = "The Istio certificate authority: SPIFFE workload certificates over gRPC.",
    subcommands = {IstioCa.Serve.class, IstioCa.Issue.class})
public final class IstioCa {

  private static final Logger log = LoggerFactory.getLogger(IstioCa.class);
  private static final Set<String> SUBCOMMANDS = Set.of("serve", "issue", "help", "-h", "--help", "-V", "--version");

  private IstioCa() {}

  /** Runs the command line; {@code serve} when no subcommand is named. */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    String[] effective = args;
    if (args.length == 0 || !SUBCOMMANDS.contains(args[0])) {
      effective = new String[args.length + 1];
      effective[0] = "serve";
      System.arraycopy(args, 0, effective, 1, args.length);
    }
    return new CommandLine(new IstioCa()).execute(effective);
  }

  @Command(name = "serve", mixinStandardHelpOptions = true, description = "Runs the CA (the default command).")
  static final class Serve implements Callable<Integer> {

    @Mixin
    CaOptions ca;

    @Option(names = "--grpc-port", defaultValue = "8060", description = "TLS gRPC port (default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--grpc-hostname", defaultValue = "localhost", split = ",",
        description = "DNS name(s) of the CA's serving certificate (default: ${DEFAULT-VALUE}).")
    List<String> grpcHostnames;

    @Option(names = "--monitoring-port", defaultValue = "15014",
        description = "HTTP port of /metrics, /healthz, /readyz, /root-cert.pem (default: ${DEFAULT-VALUE}; -1 off).")
    int monitoringPort;

    @Option(names = "--monitoring-address", defaultValue = "0.0.0.0", description = "(default: ${DEFAULT-VALUE})")
    String monitoringAddress;

    @Option(names = "--token-file", paramLabel = "FILE",
        description = "Accept bearer tokens listed in FILE (lines: TOKEN SPIFFE-ID...).")
    @Nullable Path tokenFile;

    @Option(names = "--trusted-delegate", paramLabel = "SPIFFE-ID", split = ",",
        description = "Identities that may request certificates for any workload identity of the trust domain "
            + "(Pilot's, which serves workloads their certificates over SDS), e.g. "
            + "spiffe://cluster.local/ns/istio-system/sa/istio-pilot.")
    List<String> trustedDelegates = new ArrayList<>();

    @Option(names = "--kube-token-review",
        description = "Accept Kubernetes service account tokens, checked with the TokenReview API.")
    boolean kubeTokenReview;

    @Option(names = "--token-audience", split = ",",
        description = "Audiences a Kubernetes token must carry (default: the API server's).")
    List<String> tokenAudiences = new ArrayList<>();

    @Option(names = "--secret-controller",
        description = "Keep a Secret istio.<sa> with key and certificate for every ServiceAccount.")
    boolean secretController;

    @Option(names = "--namespace", split = ",",
        description = "Namespaces whose ServiceAccounts get Secrets (default: all; $NAMESPACE if set).")
    List<String> namespaces = new ArrayList<>();

    @Option(names = "--secret-resync", defaultValue = "1m", converter = CaOptions.DurationConverter.class,
        description = "How often the secret controller re-checks every Secret (default: ${DEFAULT-VALUE}).")
    Duration secretResync;

    @Option(names = "--shutdown-grace-period", defaultValue = "10s", converter = CaOptions.DurationConverter.class,
        description = "How long calls in flight may finish at shutdown (default: ${DEFAULT-VALUE}).")
    Duration shutdownGrace;

    @Override
    public Integer call() throws Exception {
      CaServer server;
      try {
        // Refused before a root is generated and stored.
        CaServer.checkTrustedDelegates(trustedDelegates, ca.trustDomain);
        CertificateAuthority authority = ca.authority(true);
        CaMetrics metrics = new CaMetrics();
        CaServer.Builder b = CaServer.builder(authority).grpcPort(grpcPort).grpcHostnames(grpcHostnames)
            .monitoring(monitoringAddress, monitoringPort).servingKeyAlgorithm(ca.keyAlgorithm)
            .shutdownGrace(shutdownGrace).metrics(metrics).trustedDelegates(trustedDelegates);
        if (!trustedDelegates.isEmpty()) {
          log.info("Trusted delegates (may request any workload identity of {}): {}", authority.trustDomain(),
              trustedDelegates);
        }
        if (tokenFile != null) {
          StaticTokenVerifier verifier = StaticTokenVerifier.load(tokenFile);
          log.info("Accepting {} bearer token(s) from {}", verifier.size(), tokenFile);
          b.tokenVerifier(verifier);
        }
        if (kubeTokenReview) {
          b.tokenVerifier(new KubernetesTokenVerifier(ca.kubernetes(), authority.trustDomain(), tokenAudiences));
        }
        if (secretController) {
          List<String> selected = namespaces;
          String env = System.getenv("NAMESPACE");
          if (selected.isEmpty() && env != null && !env.isBlank()) {
            selected = List.of(env);
          }
          SecretController controller = new SecretController(ca.kubernetes(), authority, ca.keyAlgorithm, selected,
              secretResync, metrics::issuedBy, () -> metrics.error("secret_controller"));
          controller.start();
          b.readinessCheck(() -> controller.hasSynced() ? new CaServer.Readiness(true, "secrets synced")
              : new CaServer.Readiness(false, "secret controller has not synced yet"));
          b.closeOnShutdown(controller);
        }
        if (ca.hasKubernetes()) {
          b.closeOnShutdown(ca.kubernetes());
        }
        server = b.build();
        server.start();
      } catch (IllegalArgumentException | IOException e) {
        System.err.println("istio-ca: " + e.getMessage());
        return 2;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runnable stop = () -> {
        try {
          log.info("Shutting down: finishing calls in flight");
          server.close();
        } finally {
          stopped.countDown();
        }
      };
      // Handle SIGTERM and SIGINT ourselves so that a graceful stop exits 0, not 143.
      for (String sig : new String[] {"TERM", "INT"}) {
        Signal.handle(new Signal(sig), s -> new Thread(stop, "istio-ca-shutdown").start());
      }
      stopped.await();
      return 0;
    }
  }

  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Writes a bootstrap identity for a VM (key.pem 0600, cert-chain.pem, root-cert.pem), "
          + "signed with the CA's own root from its storage or plug-in files.")
  static final class Issue implements Callable<Integer> {

    @Mixin
    CaOptions ca;

    @Option(names = "--namespace", required = true, description = "The service account's namespace.")
    String namespace;

    @Option(names = "--service-account", required = true, description = "The service account.")
    String serviceAccount;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write into.")
    Path out;

    @Option(names = "--ttl", converter = CaOptions.DurationConverter.class,
        description = "Lifetime (default: --workload-cert-ttl; capped by --max-workload-cert-ttl).")
    @Nullable Duration ttl;

    @Override
    public Integer call() {
      try {
        CertificateAuthority authority = ca.authority(false);
        SpiffeId id = SpiffeId.forServiceAccount(authority.trustDomain(), namespace, serviceAccount);
        IssuedIdentity issued = authority.issue(id, ca.keyAlgorithm, ttl == null ? Duration.ZERO : ttl);
        SecureFiles.writeSecret(out.resolve("key.pem"), issued.keyPem());
        SecureFiles.writePublic(out.resolve("cert-chain.pem"), issued.certificate().certChainPem());
        SecureFiles.writePublic(out.resolve("root-cert.pem"), Pem.encode(authority.bundle().root()));
        System.out.println("Wrote " + id + " to " + out + " (key.pem, cert-chain.pem, root-cert.pem; valid until "
            + issued.certificate().leaf().getNotAfter().toInstant() + ", "
            + Durations.format(authority.grantedTtl(ttl == null ? Duration.ZERO : ttl)) + ")");
        return 0;
      } catch (IllegalArgumentException | IOException e) {
        System.err.println("istio-ca issue: " + e.getMessage());
        return 2;
      } finally {
        if (ca.hasKubernetes()) {
          ca.kubernetes().close();
        }
      }
    }
  }
}
