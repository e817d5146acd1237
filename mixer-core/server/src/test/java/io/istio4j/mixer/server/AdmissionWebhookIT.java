package io.istio4j.mixer.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.istio4j.http.WebhookServer;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.server.kubernetes.MixerCrds;
import io.istio4j.mixer.server.kubernetes.MixerKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code mixs validator}: real AdmissionReview JSON over HTTPS, against config in an {@code fs://}
 * directory; bad requests and bad clients get clear errors and the server keeps serving.
 */
class AdmissionWebhookIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Path dir;
  private Path certFile;
  private Path keyFile;
  private SSLContext trust;
  private HttpClient http;
  private ValidatorCommand.Validator validator;

  @BeforeEach
  void start(@TempDir Path tmp) throws Exception {
    dir = Files.createDirectory(tmp.resolve("config"));
    Files.writeString(dir.resolve("attributes.yaml"), ConfigReloadTest.MANIFEST);
    Files.writeString(dir.resolve("policy.yaml"), ConfigReloadTest.policy("go away"));
    certFile = tmp.resolve("tls.crt");
    keyFile = tmp.resolve("tls.key");
    Tls tls = Tls.create();
    tls.write(certFile, keyFile);
    trust = tls.trusting();
    http = HttpClient.newBuilder().sslContext(trust).build();
    validator = startValidator("fs://" + dir);
  }

  private ValidatorCommand.Validator startValidator(String configStoreUrl) throws IOException {
    return ValidatorCommand.Validator.start(WebhookServer.Options.of("127.0.0.1", 0, certFile, keyFile)
            .withMaxRequestBytes(64 * 1024).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(2)),
        ConfigStoreLocation.parse(configStoreUrl), "istio-system");
  }

  /** A self-signed certificate for localhost and its key, made here with BouncyCastle. */
  private record Tls(X509Certificate cert, KeyPair keys) {
    static Tls create() throws Exception {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
      gen.initialize(2048);
      KeyPair keys = gen.generateKeyPair();
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=mixer-validator"),
          BigInteger.valueOf(System.nanoTime()), Date.from(now.minusSeconds(60)), Date.from(now.plusSeconds(3600)),
          new X500Name("CN=mixer-validator"), keys.getPublic());
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate())));
      return new Tls(cert, keys);
    }

    void write(Path certFile, Path keyFile) throws Exception {
      Files.writeString(certFile, pem(cert));
      Files.writeString(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate()));
    }

    /** A client TLS context that trusts this certificate only. */
    SSLContext trusting() throws Exception {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry("validator", cert);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(null, tmf.getTrustManagers(), null);
      return c;
    }
  }

  @AfterEach
  void stop() {
    validator.close();
  }

  private static String pem(Object o) throws Exception {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }

  /** An AdmissionReview as the API server sends it. */
  private static byte[] review(String operation, String plural, String user, String yaml) throws Exception {
    Map<?, ?> object = yaml == null ? null : YAML.readValue(yaml, Map.class);
    Map<?, ?> metadata = object == null ? Map.of() : (Map<?, ?>) object.get("metadata");
    ObjectNode request = JSON.createObjectNode();
    request.put("uid", UUID.randomUUID().toString());
    request.set("kind", JSON.valueToTree(Map.of("group", "config.istio.io", "version", "v1alpha2",
        "kind", object == null ? plural : object.get("kind"))));
    request.set("resource", JSON.valueToTree(Map.of("group", "config.istio.io", "version", "v1alpha2",
        "resource", plural)));
    request.put("name", String.valueOf(metadata.get("name")));
    request.put("namespace", "istio-system");
    request.put("operation", operation);
    request.set("userInfo", JSON.valueToTree(Map.of("username", user, "groups", new String[] {"system:masters"})));
    if (operation.equals("DELETE")) {
      request.set("object", null);
      request.set("oldObject", JSON.valueToTree(object));
    } else {
      request.set("object", JSON.valueToTree(object));
    }
    request.put("dryRun", false);
    ObjectNode review = JSON.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    review.set("request", request);
    return JSON.writeValueAsBytes(review);
  }

  private HttpResponse<String> post(byte[] body, String contentType) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + validator.port() + "/validate"))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode answer(byte[] review) throws Exception {
    HttpResponse<String> r = post(review, "application/json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(answer.path("response").path("uid").asText())
        .isEqualTo(JSON.readTree(review).path("request").path("uid").asText());
    return answer.path("response");
  }

  private static final String RULE_WITH_MISSING_HANDLER = """
      apiVersion: config.istio.io/v1alpha2
      kind: rule
      metadata: {name: bad, namespace: istio-system}
      spec:
        actions: [{handler: missing.testdeny, instances: [nothing.checknothing]}]
      """;

  @Test
  void aRuleNamingAMissingHandlerIsRefusedWithTheMessageMixsValidatePrints() throws Exception {
    JsonNode refused = answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER));
    assertThat(refused.path("allowed").asBoolean()).isFalse();
    assertThat(refused.path("status").path("code").asInt()).isEqualTo(422);
    String message = refused.path("status").path("message").asText();

    Files.writeString(dir.resolve("bad.yaml"), RULE_WITH_MISSING_HANDLER);
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, UTF_8));
      assertThat(new CommandLine(new Mixs()).execute("validate", dir.toString())).isEqualTo(1);
    } finally {
      System.setOut(original);
    }
    String printed = out.toString(UTF_8).strip();
    assertThat(printed).isEqualTo("bad.rule.istio-system (bad.yaml): spec.actions[0].handler: handler "
        + "'missing.testdeny.istio-system' not found");
    // The same line, naming where the object lives instead of the file.
    assertThat(message).isEqualTo(printed.replace("(bad.yaml)", "(k8s:rules/istio-system/bad)"));
  }

  @Test
  void validObjectsAreAllowedAndMayBeUsedAtOnce() throws Exception {
    JsonNode handler = answer(review("CREATE", "testdenies", "admin", """
        apiVersion: config.istio.io/v1alpha2
        kind: testdeny
        metadata: {name: other, namespace: istio-system}
        spec: {message: "no"}
        """));
    assertThat(handler.path("allowed").asBoolean()).as(handler.toString()).isTrue();
    // The handler's informer event may not have arrived; the webhook remembers what it allowed.
    JsonNode rule = answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER.replace("missing", "other")));
    assertThat(rule.path("allowed").asBoolean()).as(rule.toString()).isTrue();
  }

  @Test
  void anEditThatBreaksAnObjectIsRefusedAndNamesTheField() throws Exception {
    JsonNode r = answer(review("UPDATE", "rules", "admin", """
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: nomallory, namespace: istio-system}
        spec:
          match: source.usr == "mallory"
          actions: [{handler: deny.testdeny, instances: [nothing.checknothing]}]
        """));
    assertThat(r.path("allowed").asBoolean()).isFalse();
    assertThat(r.path("status").path("message").asText()).isEqualTo(
        "nomallory.rule.istio-system (k8s:rules/istio-system/nomallory): spec.match: unknown attribute source.usr");
  }

  @Test
  void deletingWhatARuleStillUsesIsRefusedExceptForTheNamespaceController() throws Exception {
    String handler = """
        apiVersion: config.istio.io/v1alpha2
        kind: testdeny
        metadata: {name: deny, namespace: istio-system}
        spec: {message: "go away"}
        """;
    JsonNode r = answer(review("DELETE", "testdenies", "admin", handler));
    assertThat(r.path("allowed").asBoolean()).isFalse();
    assertThat(r.path("status").path("code").asInt()).isEqualTo(409);
    assertThat(r.path("status").path("message").asText()).startsWith(
        "deny.testdeny.istio-system is still in use; deleting it would reject:\nnomallory.rule.istio-system "
            + "(policy.yaml#3): spec.actions[0].handler: handler 'deny.testdeny.istio-system' not found");

    JsonNode byController = answer(review("DELETE", "testdenies",
        "system:serviceaccount:kube-system:namespace-controller", handler));
    assertThat(byController.path("allowed").asBoolean()).isTrue();
    assertThat(byController.path("warnings").get(0).asText()).contains("still in use");

    JsonNode rule = answer(review("DELETE", "rules", "admin", """
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: nomallory, namespace: istio-system}
        spec: {}
        """));
    assertThat(rule.path("allowed").asBoolean()).isTrue();
  }

  @Test
  void otherGroupsAndUnknownKindsAreLetThrough() throws Exception {
    ObjectNode other = (ObjectNode) JSON.readTree(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER));
    ((ObjectNode) other.path("request").path("resource")).put("group", "networking.istio.io");
    assertThat(answer(JSON.writeValueAsBytes(other)).path("allowed").asBoolean()).isTrue();
    JsonNode unknown = answer(review("CREATE", "svcctrls", "admin", """
        apiVersion: config.istio.io/v1alpha2
        kind: svcctrl
        metadata: {name: x, namespace: istio-system}
        spec: {}
        """));
    assertThat(unknown.path("allowed").asBoolean()).isTrue();
    assertThat(unknown.path("warnings").get(0).asText()).contains("no kind 'svcctrls'");
  }

  @Test
  void badRequestsGetClearErrorsAndTheServerKeepsServing() throws Exception {
    HttpResponse<String> notJson = post("{\"apiVersion\": ".getBytes(UTF_8), "application/json");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.body()).startsWith("not an AdmissionReview: not JSON: ");

    HttpResponse<String> notReview = post("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}".getBytes(UTF_8),
        "application/json");
    assertThat(notReview.statusCode()).isEqualTo(400);
    assertThat(notReview.body()).isEqualTo("not an AdmissionReview: apiVersion 'v1', kind 'Pod' (expected: "
        + "admission.k8s.io/v1 AdmissionReview)\n");

    HttpResponse<String> noUid = post(("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
        + "\"request\":{}}").getBytes(UTF_8), "application/json");
    assertThat(noUid.statusCode()).isEqualTo(400);
    assertThat(noUid.body()).contains("request.uid: required");

    HttpResponse<String> yaml = post(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER), "application/yaml");
    assertThat(yaml.statusCode()).isEqualTo(415);
    assertThat(yaml.body()).isEqualTo("content type 'application/yaml' (expected: application/json)\n");

    byte[] huge = new byte[200 * 1024];
    Arrays.fill(huge, (byte) ' ');
    HttpResponse<String> tooLarge = post(huge, "application/json");
    assertThat(tooLarge.statusCode()).isEqualTo(413);

    HttpResponse<String> get = http.send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + validator.port() + "/validate")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);

    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + validator.port() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).startsWith("ready: config from fs://");

    // Deeply nested JSON: refused by the parser's limits, not a stack overflow.
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertThat(post(deep.getBytes(UTF_8), "application/json").statusCode()).isEqualTo(400);

    assertThat(answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER)).path("allowed").asBoolean())
        .isFalse();
  }

  @Test
  void slowAndNonTlsClientsAreCutOffAndTheServerKeepsServing() throws Exception {
    // A real request first: the TLS stack is warm, so the handshake below fits the read timeout.
    assertThat(answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER)).path("allowed").asBoolean())
        .isFalse();
    // A client that completes the handshake and then sends half a request.
    try (SSLSocket slow = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", validator.port())) {
      slow.setSoTimeout(30_000);
      slow.startHandshake();
      OutputStream out = slow.getOutputStream();
      out.write("POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n".getBytes(UTF_8));
      out.flush();
      assertThat(readUntilClosed(slow.getInputStream())).isEqualTo(-1); // closed by the read timeout
    }
    // A client that connects and says nothing (no TLS handshake at all).
    try (Socket silent = new Socket(InetAddress.getLoopbackAddress(), validator.port())) {
      silent.setSoTimeout(30_000);
      assertThat(readUntilClosed(silent.getInputStream())).isEqualTo(-1);
    }
    // Plain HTTP to the TLS port.
    try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), validator.port())) {
      plain.setSoTimeout(30_000);
      try {
        plain.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(UTF_8));
      } catch (IOException closedAlready) {
        // the server may close before the write: that is the point
      }
      assertThat(readUntilClosed(plain.getInputStream())).isEqualTo(-1);
    }
    assertThat(answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER)).path("allowed").asBoolean())
        .isFalse();
  }

  /** GET /healthz over a new connection from a client that trusts {@code trusted} only. */
  private int healthz(SSLContext trusted) throws Exception {
    HttpClient client = HttpClient.newBuilder().sslContext(trusted).build(); // its own connection
    return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + validator.port() + "/healthz")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void aRotatedCertificateIsUsedByTheNextConnectionAndBrokenFilesKeepTheOneInUse() throws Exception {
    SSLContext first = trust;
    assertThat(healthz(first)).isEqualTo(200);

    // Garbage in both files (a botched copy): the certificate in use stays.
    Files.writeString(certFile, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    Files.writeString(keyFile, "garbage");
    assertThat(healthz(first)).isEqualTo(200);
    assertThat(healthz(first)).isEqualTo(200); // tried once per version of the files, still served

    // A rotation (cert-manager renewing the Secret): the next connection gets the new certificate.
    Tls second = Tls.create();
    second.write(certFile, keyFile);
    assertThat(healthz(second.trusting())).isEqualTo(200);
    assertThatThrownBy(() -> healthz(first)).isInstanceOf(SSLHandshakeException.class);

    // A certificate whose key is not the one on disk (one file of a pair replaced): refused, the
    // second stays in use rather than a context that fails every handshake.
    Tls third = Tls.create();
    Files.writeString(certFile, pem(third.cert()));
    assertThat(healthz(second.trusting())).isEqualTo(200);
    http = HttpClient.newBuilder().sslContext(second.trusting()).build();
    assertThat(answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER)).path("allowed").asBoolean())
        .isFalse(); // the reviews go on meanwhile (over the second certificate, which the client trusts)
  }

  @Test
  void onAKubernetesStoreARuleNamingAMissingHandlerIsRefused(@TempDir Path tmp) throws Exception {
    validator.close();
    ClassLoader loader = AdmissionWebhookIT.class.getClassLoader();
    Templates templates = Templates.load(loader);
    List<MixerKind> kinds = MixerKind.of(templates, Adapters.load(loader, templates));
    KubernetesMockServer api = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    api.init(InetAddress.getLoopbackAddress(), 0);
    try (KubernetesClient client = api.createClient()) {
      for (CustomResourceDefinition crd : MixerCrds.of(kinds)) {
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
      for (String doc : (ConfigReloadTest.MANIFEST + "\n---\n" + ConfigReloadTest.policy("go away"))
          .split("(?m)^---\\s*$")) {
        if (doc.isBlank()) {
          continue;
        }
        GenericKubernetesResource r = Serialization.unmarshal(doc, GenericKubernetesResource.class);
        MixerKind kind = kinds.stream().filter(k -> k.name().equals(r.getKind())).findFirst().orElseThrow();
        client.genericKubernetesResources(kind.context()).inNamespace("istio-system").resource(r).create();
      }
      Path kubeconfig = tmp.resolve("kubeconfig");
      Files.writeString(kubeconfig, """
          apiVersion: v1
          kind: Config
          clusters: [{name: mock, cluster: {server: "http://localhost:%d"}}]
          users: [{name: validator, user: {token: secret}}]
          contexts: [{name: mock, context: {cluster: mock, user: validator, namespace: istio-system}}]
          current-context: mock
          """.formatted(api.getPort()));
      validator = startValidator("k8s://" + kubeconfig);

      JsonNode refused = answer(review("CREATE", "rules", "admin", RULE_WITH_MISSING_HANDLER));
      assertThat(refused.path("allowed").asBoolean()).isFalse();
      assertThat(refused.path("status").path("code").asInt()).isEqualTo(422);
      assertThat(refused.path("status").path("message").asText()).isEqualTo("bad.rule.istio-system "
          + "(k8s:rules/istio-system/bad): spec.actions[0].handler: handler 'missing.testdeny.istio-system' not found");
      // The handler the API server holds is there: a rule naming it is allowed.
      JsonNode allowed = answer(review("CREATE", "rules", "admin",
          RULE_WITH_MISSING_HANDLER.replace("missing", "deny")));
      assertThat(allowed.path("allowed").asBoolean()).as(allowed.toString()).isTrue();

      // The API server goes away: reviews go on against the informers' caches.
      api.destroy();
      JsonNode stillRefused = answer(review("CREATE", "rules", "admin",
          RULE_WITH_MISSING_HANDLER.replace("name: bad", "name: bad2")));
      assertThat(stillRefused.path("allowed").asBoolean()).isFalse();
      assertThat(stillRefused.path("status").path("message").asText()).contains("handler "
          + "'missing.testdeny.istio-system' not found");
      assertThat(healthz(trust)).isEqualTo(200);
    } finally {
      api.destroy();
    }
  }

  /** Reads until the server closes; -1 then (a reset counts as closed too). */
  private static int readUntilClosed(InputStream in) {
    try {
      while (in.read() >= 0) {
        // drain whatever the server says before closing (a TLS alert)
      }
      return -1;
    } catch (IOException e) {
      return e instanceof SocketTimeoutException ? 0 : -1;
    }
  }
}
