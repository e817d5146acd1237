package io.istio4j.ca.benchmarks;

import io.istio4j.ca.CaKeyCertBundle;
import io.istio4j.ca.CaStorage;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.CertificateSigningRequest;
import io.istio4j.ca.InvalidCsrException;
import io.istio4j.ca.IssuedCertificate;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SelfSignedCa;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What one CSR costs the CA without the network: parse and check the CSR (its signature is
 * verified), sign the leaf, and encode the answer as PEM. The CA and workload keys are of the same
 * type ({@code algorithm}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SigningBenchmark {

  @Param({"ECDSA_P256", "RSA_2048"})
  public String algorithm;

  private CertificateAuthority ca;
  private String csrPem;
  private CertificateSigningRequest csr;

  @Setup
  public void setUp() throws Exception {
    KeyAlgorithm alg = KeyAlgorithm.valueOf(algorithm);
    CaStorage.StoredCa root = SelfSignedCa.generate(
        new SelfSignedCa.RootOptions("bench", Duration.ofDays(365), alg, "cluster.local"));
    CaKeyCertBundle bundle = CaKeyCertBundle.selfSigned(Pem.readCertificate(root.certPem(), "root"),
        Pem.readPrivateKey(root.keyPem(), "key"));
    ca = new CertificateAuthority(bundle, "cluster.local", Duration.ofHours(24), Duration.ofDays(90));
    KeyPair workload = alg.generate();
    csrPem = CertificateSigningRequest.create(workload,
        List.of(SubjectAltName.uri(SpiffeId.forServiceAccount("cluster.local", "default", "bench"))));
    csr = CertificateSigningRequest.parse(csrPem);
  }

  /** Parse and verify the CSR, sign, encode leaf + chain + root as PEM: a CreateCertificate minus gRPC and TLS. */
  @Benchmark
  public List<String> csrToPemChain() throws InvalidCsrException {
    return ca.sign(CertificateSigningRequest.parse(csrPem), Duration.ZERO).fullChainPems();
  }

  /** Sign an already parsed CSR: the signature and the certificate encoding alone. */
  @Benchmark
  public IssuedCertificate signOnly() {
    return ca.sign(csr, Duration.ZERO);
  }

  /** Parse and verify the CSR alone. */
  @Benchmark
  public CertificateSigningRequest parseCsr() throws InvalidCsrException {
    return CertificateSigningRequest.parse(csrPem);
  }
}
