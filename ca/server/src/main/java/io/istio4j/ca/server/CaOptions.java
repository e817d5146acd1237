package io.istio4j.ca.server;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.istio4j.ca.CaKeyCertBundle;
import io.istio4j.ca.CaStorage;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.DirectoryCaStorage;
import io.istio4j.ca.Durations;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.PluginCa;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.k8s.SecretCaStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options that say which CA signs (self-signed and where it is stored, or plug-in), shared by serve and issue. */
final class CaOptions {

  @Option(names = "--self-signed-ca", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Generate a root on first start and persist it (default unless --signing-cert is given).")
  boolean selfSigned;

  @Option(names = "--self-signed-ca-org", defaultValue = "k8s.cluster.local",
      description = "O= of the self-signed root (default: ${DEFAULT-VALUE}).")
  String selfSignedOrg;

  @Option(names = "--ca-cert-ttl", defaultValue = "8760h", converter = DurationConverter.class,
      description = "Lifetime of a newly generated self-signed root (default: ${DEFAULT-VALUE}).")
  Duration caCertTtl;

  @Option(names = "--storage", paramLabel = "DIR",
      description = "Directory holding the self-signed root: ca-cert.pem and ca-key.pem (mode 0600).")
  @Nullable Path storage;

  @Option(names = "--storage-secret",
      description = "Keep the self-signed root in the Kubernetes Secret istio-ca-secret instead of a directory.")
  boolean storageSecret;

  @Option(names = "--istio-ca-storage-namespace", defaultValue = "istio-system",
      description = "Namespace of istio-ca-secret (default: ${DEFAULT-VALUE}).")
  String storageNamespace;

  @Option(names = "--signing-cert", paramLabel = "FILE", description = "Plug-in CA: the PEM certificate that signs.")
  @Nullable Path signingCert;

  @Option(names = "--signing-key", paramLabel = "FILE", description = "Plug-in CA: its PEM private key.")
  @Nullable Path signingKey;

  @Option(names = "--root-cert", paramLabel = "FILE", description = "Plug-in CA: the PEM root workloads trust.")
  @Nullable Path rootCert;

  @Option(names = "--cert-chain", paramLabel = "FILE",
      description = "Plug-in CA: PEM intermediates from the signing certificate up to the root.")
  @Nullable Path certChain;

  @Option(names = "--trust-domain", defaultValue = "cluster.local",
      description = "SPIFFE trust domain of issued identities (default: ${DEFAULT-VALUE}).")
  String trustDomain;

  @Option(names = "--workload-cert-ttl", defaultValue = "24h", converter = DurationConverter.class,
      description = "Lifetime of a workload certificate when none is requested (default: ${DEFAULT-VALUE}).")
  Duration workloadCertTtl;

  @Option(names = "--max-workload-cert-ttl", defaultValue = "90d", converter = DurationConverter.class,
      description = "Longest workload certificate lifetime granted (default: ${DEFAULT-VALUE}).")
  Duration maxWorkloadCertTtl;

  @Option(names = "--key-algorithm", defaultValue = "ECDSA_P256", converter = KeyAlgorithmConverter.class,
      description = "Key type the CA generates (root, serving and workload keys): ECDSA_P256 or RSA_2048 "
          + "(default: ${DEFAULT-VALUE}).")
  KeyAlgorithm keyAlgorithm;

  @Option(names = "--kube-config", paramLabel = "FILE",
      description = "kubeconfig for running outside the cluster (default: in-cluster or ~/.kube/config).")
  @Nullable Path kubeConfig;

  private @Nullable KubernetesClient kubernetes;

  boolean pluginMode() {
    return signingCert != null || signingKey != null || rootCert != null || certChain != null;
  }

  /**
   * The CA these options describe.
   *
   * @param create whether a self-signed root may be generated (serve: yes; issue: no)
   */
  CertificateAuthority authority(boolean create) throws IOException {
    // Flags first: a bad TTL must not cost a generated root.
    SpiffeId.checkTrustDomain(trustDomain);
    if (maxWorkloadCertTtl.compareTo(workloadCertTtl) < 0 || workloadCertTtl.isZero() || workloadCertTtl.isNegative()) {
      throw new IllegalArgumentException("--workload-cert-ttl " + Durations.format(workloadCertTtl)
          + " and --max-workload-cert-ttl " + Durations.format(maxWorkloadCertTtl) + " (expected: 0 < ttl <= max)");
    }
    CaKeyCertBundle bundle;
    if (pluginMode()) {
      if (signingCert == null || signingKey == null || rootCert == null) {
        throw new IllegalArgumentException(
            "plug-in CA needs --signing-cert, --signing-key and --root-cert (--cert-chain when intermediates sit between)");
      }
      if (storage != null || storageSecret) {
        throw new IllegalArgumentException("--storage and --storage-secret are for a self-signed CA, not a plug-in one");
      }
      bundle = PluginCa.load(signingCert, signingKey, rootCert, certChain);
    } else {
      if (!selfSigned) {
        throw new IllegalArgumentException("--no-self-signed-ca needs --signing-cert, --signing-key and --root-cert");
      }
      CaStorage store = storage();
      bundle = create
          ? SelfSignedCa.loadOrCreate(store, new SelfSignedCa.RootOptions(selfSignedOrg, caCertTtl, keyAlgorithm, trustDomain))
          : SelfSignedCa.load(store);
    }
    return new CertificateAuthority(bundle, trustDomain, workloadCertTtl, maxWorkloadCertTtl);
  }

  private CaStorage storage() {
    if (storage != null && storageSecret) {
      throw new IllegalArgumentException("--storage and --storage-secret: choose one");
    }
    if (storage != null) {
      return new DirectoryCaStorage(storage);
    }
    if (storageSecret) {
      return new SecretCaStorage(kubernetes(), storageNamespace);
    }
    throw new IllegalArgumentException("a self-signed CA needs --storage DIR or --storage-secret, so its root "
        + "survives a restart; or give a plug-in CA with --signing-cert, --signing-key and --root-cert");
  }

  /** The Kubernetes client, made on first use. */
  synchronized KubernetesClient kubernetes() {
    if (kubernetes == null) {
      Config config;
      if (kubeConfig != null) {
        try {
          config = Config.fromKubeconfig(Files.readString(kubeConfig));
        } catch (IOException e) {
          throw new IllegalArgumentException("--kube-config " + kubeConfig + ": cannot read (" + e.getMessage() + ")", e);
        }
      } else {
        config = Config.autoConfigure(null);
      }
      kubernetes = new KubernetesClientBuilder().withConfig(config).build();
    }
    return kubernetes;
  }

  boolean hasKubernetes() {
    return kubernetes != null;
  }

  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      return Durations.parse(value);
    }
  }

  static final class KeyAlgorithmConverter implements CommandLine.ITypeConverter<KeyAlgorithm> {
    @Override
    public KeyAlgorithm convert(String value) {
      return KeyAlgorithm.parse(value);
    }
  }
}
