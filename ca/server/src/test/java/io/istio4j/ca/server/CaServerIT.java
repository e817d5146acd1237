package io.istio4j.ca.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.istio4j.ca.CaKeyCertBundle;
import io.istio4j.ca.CertificateAuthority;
import io.istio4j.ca.IssuedIdentity;
import io.istio4j.ca.KeyAlgorithm;
import io.istio4j.ca.Pem;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.SubjectAltName;
import io.istio4j.ca.api.v1.IstioCAServiceGrpc;
import io.istio4j.ca.api.v1.IstioCertificateRequest;
import io.istio4j.ca.api.v1.IstioCertificateResponse;
import io.istio4j.ca.api.v1.IstioCertificateServiceGrpc;
import io.istio4j.ca.api.v1.Request;
import io.istio4j.ca.api.v1.Response;
import io.istio4j.ca.auth.StaticTokenVerifier;
import io.istio4j.ca.server.testing.RunningCa;
import io.istio4j.ca.testing.Openssl;
import io.istio4j.ca.testing.TestPki;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaServerIT {

  private static final SpiffeId SLEEP = SpiffeId.forServiceAccount("cluster.local", "default", "sleep");
  private static final SpiffeId HTTPBIN = SpiffeId.forServiceAccount("cluster.local", "default", "httpbin");
  private static final SpiffeId VM = SpiffeId.forServiceAccount("cluster.local", "vm", "mysql");
  private static final String TOKEN = "0123456789abcdef-vm-token";
  private static final SpiffeId PILOT = SpiffeId.forServiceAccount("cluster.local", "istio-system", "istio-pilot");
  private static final String PILOT_TOKEN = "0123456789abcdef-pilot-token";

  @TempDir
  Path dir;

  private RunningCa ca;
  private ManagedChannel sleepChannel;

  @BeforeEach
  void start() throws Exception {
    Path tokens = dir.resolve("tokens");
    Files.writeString(tokens, "# test tokens\n" + TOKEN + " " + VM + "\n" + PILOT_TOKEN + " " + PILOT + "\n");
    StaticTokenVerifier verifier = StaticTokenVerifier.load(tokens);
    ca = RunningCa.start(dir.resolve("ca"), b -> b.tokenVerifier(verifier).trustedDelegates(List.of(PILOT.toString())));
    sleepChannel = ca.mtlsChannel(ca.identity("default", "sleep"));
  }

  @AfterEach
  void stop() throws Exception {
    RunningCa.close(sleepChannel);
    ca.close();
  }

  private static String csr(SpiffeId id) {
    return TestPki.csr(KeyAlgorithm.ECDSA_P256.generate(), List.of(SubjectAltName.uri(id)));
  }

  private static Request request(String csr) {
    return Request.newBuilder().setCsrPem(ByteString.copyFromUtf8(csr)).build();
  }

  @Test
  void handleCsrSignsTheCallersOwnIdentityAndOpensslVerifiesIt() throws Exception {
    Response response = IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(SLEEP)));
    assertThat(response.getIsApproved()).isTrue();
    List<X509Certificate> chain = Pem.readCertificates(response.getSignedCertChain().toStringUtf8(), "response");
    assertThat(chain).hasSize(1);
    assertThat(chain.get(0).getSubjectAlternativeNames()).containsExactly(List.of(6, SLEEP.toString()));
    Files.writeString(dir.resolve("leaf.pem"), response.getSignedCertChain().toStringUtf8());
    Files.writeString(dir.resolve("root.pem"), ca.rootPem());
    Openssl.run(dir, "verify", "-CAfile", "root.pem", "-untrusted", "leaf.pem", "leaf.pem").assertOk("verify");
  }

  @Test
  void createCertificateReturnsLeafFirstRootLastWithTheRequestedTtlCapped() throws Exception {
    IstioCertificateResponse response = IstioCertificateServiceGrpc.newBlockingStub(sleepChannel).createCertificate(
        IstioCertificateRequest.newBuilder().setCsr(csr(SLEEP)).setValidityDuration(Duration.ofDays(3650).toSeconds())
            .build());
    assertThat(response.getCertChainList()).hasSize(2);
    X509Certificate leaf = Pem.readCertificate(response.getCertChain(0), "leaf");
    assertThat(response.getCertChain(1)).isEqualTo(ca.rootPem());
    assertThat(Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant()))
        .isLessThanOrEqualTo(Duration.ofDays(7).plusMinutes(1));

    IstioCertificateResponse oneHour = IstioCertificateServiceGrpc.newBlockingStub(sleepChannel).createCertificate(
        IstioCertificateRequest.newBuilder().setCsr(csr(SLEEP)).setValidityDuration(3600).build());
    X509Certificate shortLeaf = Pem.readCertificate(oneHour.getCertChain(0), "leaf");
    assertThat(Duration.between(shortLeaf.getNotBefore().toInstant(), shortLeaf.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofHours(1).plusMinutes(1));
  }

  @Test
  void aForeignSanIsPermissionDeniedNamingTheSan() {
    assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(HTTPBIN))))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("SAN '" + HTTPBIN + "'")
              .contains("client certificate").contains(SLEEP.toString());
        });
    assertThatThrownBy(() -> IstioCertificateServiceGrpc.newBlockingStub(sleepChannel).createCertificate(
        IstioCertificateRequest.newBuilder().setCsr(TestPki.csr(KeyAlgorithm.ECDSA_P256.generate(),
            List.of(SubjectAltName.uri(SLEEP), SubjectAltName.dns("evil.example")))).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getStatus().getDescription()).contains("SAN 'evil.example'");
        });
  }

  @Test
  void noSanOrAMalformedSanOrGarbageIsInvalidArgument() {
    KeyPair pair = KeyAlgorithm.ECDSA_P256.generate();
    for (String bad : List.of(TestPki.csr(pair, List.of()),
        TestPki.csr(pair, List.of(new SubjectAltName(SubjectAltName.Type.URI, "spiffe://cluster.local/ns/../sa/x"))),
        "", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "\u0000\u0001garbage")) {
      assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(bad)))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).as(bad).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
    assertThatThrownBy(() -> IstioCertificateServiceGrpc.newBlockingStub(sleepChannel).createCertificate(
        IstioCertificateRequest.newBuilder().setCsr(csr(SLEEP)).setValidityDuration(-1).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("validity_duration -1");
  }

  @Test
  void oversizedRequestsAreRefusedAndTheServerKeepsServing() {
    String huge = "x".repeat(CaServer.MAX_MESSAGE_BYTES + 1);
    assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(huge)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    assertThat(IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(SLEEP))).getIsApproved()).isTrue();
  }

  @Test
  void stalledAndGarbageConnectionsDoNotStopTheService() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 100; i++) {
        Socket s = new Socket("127.0.0.1", ca.server().grpcPort());
        sockets.add(s);
        if (i % 2 == 0) {
          s.getOutputStream().write(("GET / HTTP/1.1\r\n" + "\u0016\u0003\u0001garbage".repeat(50)).getBytes(UTF_8));
        }
      }
      assertThat(IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(SLEEP))).getIsApproved())
          .isTrue();
      ManagedChannel fresh = ca.mtlsChannel(ca.identity("default", "sleep"));
      try {
        assertThat(IstioCAServiceGrpc.newBlockingStub(fresh).handleCSR(request(csr(SLEEP))).getIsApproved()).isTrue();
      } finally {
        RunningCa.close(fresh);
      }
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }

  @Test
  void callersWithoutCertificateOrTokenAreUnauthenticated() throws Exception {
    ManagedChannel anonymous = ca.tlsChannel();
    try {
      assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(anonymous).handleCSR(request(csr(SLEEP))))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
      Metadata wrong = new Metadata();
      wrong.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer not-the-token-at-all");
      assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(anonymous)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(wrong)).handleCSR(request(csr(VM))))
          .hasMessageContaining("UNAUTHENTICATED").hasMessageContaining("bearer token rejected");
    } finally {
      RunningCa.close(anonymous);
    }
  }

  @Test
  void aTrustedDelegateGetsAnyWorkloadIdentityOfTheTrustDomainAndNoOther() throws Exception {
    ManagedChannel anonymous = ca.tlsChannel();
    try {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + PILOT_TOKEN);
      IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub pilot = IstioCertificateServiceGrpc
          .newBlockingStub(anonymous).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      for (SpiffeId id : List.of(HTTPBIN, SLEEP, VM)) {
        IstioCertificateResponse response = pilot.createCertificate(
            IstioCertificateRequest.newBuilder().setCsr(csr(id)).build());
        assertThat(Pem.readCertificate(response.getCertChain(0), "leaf").getSubjectAlternativeNames())
            .containsExactly(List.of(6, id.toString()));
      }
      SpiffeId foreign = SpiffeId.forServiceAccount("other.domain", "default", "httpbin");
      assertThatThrownBy(() -> pilot.createCertificate(IstioCertificateRequest.newBuilder().setCsr(csr(foreign)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(e.getStatus().getDescription()).contains("SAN '" + foreign + "'")
                .contains("not a workload identity of trust domain cluster.local");
          });
      assertThatThrownBy(() -> pilot.createCertificate(IstioCertificateRequest.newBuilder().setCsr(
          TestPki.csr(KeyAlgorithm.ECDSA_P256.generate(), List.of(SubjectAltName.uri(HTTPBIN),
              SubjectAltName.dns("evil.example")))).build()))
          .hasMessageContaining("PERMISSION_DENIED").hasMessageContaining("SAN 'evil.example'");
    } finally {
      RunningCa.close(anonymous);
    }
    // A workload that is not a delegate still gets only its own identity (sleep asking for httpbin).
    assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(HTTPBIN))))
        .hasMessageContaining("PERMISSION_DENIED").hasMessageContaining("is not an identity of the caller");
  }

  @Test
  void trustedDelegatesMustBeWorkloadIdsOfTheTrustDomain() {
    assertThat(CaServer.checkTrustedDelegates(List.of(PILOT.toString()), "cluster.local"))
        .containsExactly(PILOT.toString());
    assertThatThrownBy(() -> CaServer.checkTrustedDelegates(List.of("spiffe://other.domain/ns/a/sa/b"),
        "cluster.local")).hasMessageContaining("--trusted-delegate: 'spiffe://other.domain/ns/a/sa/b'")
        .hasMessageContaining("trust domain cluster.local");
    assertThatThrownBy(() -> CaServer.checkTrustedDelegates(List.of("istio-pilot"), "cluster.local"))
        .hasMessageContaining("--trusted-delegate: 'istio-pilot'");
    assertThatThrownBy(() -> CaServer.checkTrustedDelegates(List.of("spiffe://cluster.local"), "cluster.local"))
        .hasMessageContaining("expected: a workload ID");
  }

  @Test
  void aBearerTokenProvesItsIdentityAndNoOther() throws Exception {
    ManagedChannel anonymous = ca.tlsChannel();
    try {
      Metadata headers = new Metadata();
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
      IstioCertificateServiceGrpc.IstioCertificateServiceBlockingStub stub = IstioCertificateServiceGrpc
          .newBlockingStub(anonymous).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
      IstioCertificateResponse response = stub.createCertificate(
          IstioCertificateRequest.newBuilder().setCsr(csr(VM)).build());
      assertThat(Pem.readCertificate(response.getCertChain(0), "leaf").getSubjectAlternativeNames())
          .containsExactly(List.of(6, VM.toString()));
      assertThatThrownBy(() -> stub.createCertificate(IstioCertificateRequest.newBuilder().setCsr(csr(SLEEP)).build()))
          .hasMessageContaining("PERMISSION_DENIED").hasMessageContaining("bearer token");
    } finally {
      RunningCa.close(anonymous);
    }
  }

  @Test
  void aClientCertificateFromAnotherCaIsNotAnIdentity() throws Exception {
    TestPki.Ca foreignRoot = TestPki.root("Foreign", KeyAlgorithm.ECDSA_P256);
    IssuedIdentity foreign = new CertificateAuthority(
        CaKeyCertBundle.selfSigned(foreignRoot.cert(), foreignRoot.key()), "cluster.local",
        Duration.ofHours(1), Duration.ofHours(1)).issue(SLEEP, KeyAlgorithm.ECDSA_P256, Duration.ZERO);
    ManagedChannel channel = ca.mtlsChannel(foreign);
    try {
      assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(channel).handleCSR(request(csr(SLEEP))))
          .isInstanceOf(StatusRuntimeException.class);
      assertThat(ca.server().metrics().registry().scrape().stream()
          .anyMatch(m -> m.getMetadata().getName().equals("istio_ca_certificates_issued"))).isTrue();
    } finally {
      RunningCa.close(channel);
    }
  }

  @Test
  void metricsCountIssuedAndDeniedAndReadyzIsReady() throws Exception {
    IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(SLEEP)));
    assertThatThrownBy(() -> IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(HTTPBIN))));
    String metrics = ca.monitoring("/metrics").body();
    assertThat(metrics).contains("istio_ca_certificates_issued_total{api=\"handle_csr\"} 1.0")
        .contains("istio_ca_requests_denied_total{reason=\"permission_denied\"} 1.0")
        .contains("istio_ca_root_cert_expiry_timestamp_seconds");
    assertThat(ca.monitoring("/readyz").statusCode()).isEqualTo(200);
    assertThat(ca.monitoring("/root-cert.pem").body()).isEqualTo(ca.rootPem());
  }

  @Test
  void servingCertificateIsIssuedByTheCaAndRenewed() throws Exception {
    X509Certificate first = servedCertificate();
    assertThat(first.getSubjectAlternativeNames()).contains(List.of(2, "istio-ca"), List.of(2, "localhost"));
    first.verify(ca.ca().bundle().root().getPublicKey());
    ca.server().renewServingCertificate();
    X509Certificate second = servedCertificate();
    assertThat(second.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
    // an existing channel keeps working across the renewal
    assertThat(IstioCAServiceGrpc.newBlockingStub(sleepChannel).handleCSR(request(csr(SLEEP))).getIsApproved()).isTrue();
  }

  @Test
  void servingCertificateRenewsItselfBeforeExpiry() throws Exception {
    try (RunningCa shortLived = RunningCa.start(dir.resolve("ca2"), b -> b.servingTtl(Duration.ofSeconds(4)))) {
      BigInteger first = shortLived.server().servingCertificate().getSerialNumber();
      for (int i = 0; i < 200 && shortLived.server().servingCertificate().getSerialNumber().equals(first); i++) {
        Thread.sleep(100);
      }
      assertThat(shortLived.server().servingCertificate().getSerialNumber()).isNotEqualTo(first);
    }
  }

  @Test
  void shutdownIsGracefulAndReadinessDropsFirst() throws Exception {
    try (RunningCa other = RunningCa.start(dir.resolve("ca3"), b -> { })) {
      assertThat(other.server().readiness().ready()).isTrue();
      other.server().close();
      assertThat(other.server().readiness().ready()).isFalse();
      assertThat(other.server().readiness().reason()).isEqualTo("shutting down");
    }
  }

  @Test
  void theSameRootAfterARestart() throws Exception {
    String before = ca.rootPem();
    ca.close();
    ca = RunningCa.start(dir.resolve("ca"), b -> { });
    assertThat(ca.rootPem()).isEqualTo(before);
  }

  private X509Certificate servedCertificate() throws Exception {
    X509Certificate[] seen = new X509Certificate[1];
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, new TrustManager[] {new X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen[0] = chain[0];
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", ca.server().grpcPort())) {
      socket.startHandshake();
      socket.getOutputStream().write("x".getBytes(UTF_8));
    }
    return seen[0];
  }
}
