package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The webhook over HTTPS: real AdmissionReview JSON for pods made from upstream's injection inputs;
 * the returned JSON Patch, applied as the API server applies it, gives the pod the sidecar offline
 * injection gives its workload. Bad requests get clear errors and the server keeps serving.
 */
class SidecarInjectorWebhookIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY = 64 * 1024;

  private InjectorServer server;
  private HttpClient http;
  private AdmissionHandler handler;

  @BeforeEach
  void start(@TempDir Path tmp) throws Exception {
    TestCertificate tls = TestCertificate.write(tmp);
    Path certFile = tls.certFile();
    Path keyFile = tls.keyFile();
    SSLContext trust = tls.trust();
    http = HttpClient.newBuilder().sslContext(trust).build();
    handler = new AdmissionHandler(Fixtures.injector(Fixtures.config02(false, "IfNotPresent", false)),
        NamespaceLabels.of(Map.of(
            "legacy", Map.of(SidecarInjector.NAMESPACE_LABEL, "disabled"),
            "mesh", Map.of(SidecarInjector.NAMESPACE_LABEL, "enabled", "team", "a"))));
    server = InjectorServer.start(InjectorServer.Options.of("127.0.0.1", 0, certFile, keyFile)
        .withMaxRequestBytes(MAX_BODY).withTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(3)), handler);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** The pod a workload's controller would create: the template's metadata and spec. */
  private static ObjectNode podOf(JsonNode workload) {
    ObjectNode pod = JSON.createObjectNode();
    pod.put("apiVersion", "v1");
    pod.put("kind", "Pod");
    ObjectNode metadata = workload.path("spec").path("template").path("metadata").isObject()
        ? (ObjectNode) workload.path("spec").path("template").path("metadata").deepCopy() : JSON.createObjectNode();
    metadata.remove("name");
    metadata.put("generateName", workload.path("metadata").path("name").asText() + "-");
    pod.set("metadata", metadata);
    pod.set("spec", workload.path("spec").path("template").path("spec").deepCopy());
    return pod;
  }

  /** An AdmissionReview as the API server sends it for a pod CREATE. */
  private static byte[] review(String namespace, JsonNode pod) throws Exception {
    return review(namespace, pod, "CREATE", "", "Pod", "pods");
  }

  private static byte[] review(String namespace, JsonNode object, String operation, String group, String kind,
      String resource) throws Exception {
    ObjectNode request = JSON.createObjectNode();
    request.put("uid", UUID.randomUUID().toString());
    request.set("kind", JSON.valueToTree(Map.of("group", group, "version", "v1", "kind", kind)));
    request.set("resource", JSON.valueToTree(Map.of("group", group, "version", "v1", "resource", resource)));
    request.set("requestKind", request.get("kind"));
    request.set("requestResource", request.get("resource"));
    request.put("namespace", namespace);
    request.put("operation", operation);
    request.set("userInfo", JSON.valueToTree(Map.of("username", "system:serviceaccount:kube-system:replicaset-controller",
        "groups", List.of("system:serviceaccounts"))));
    request.set("object", object);
    request.putNull("oldObject");
    request.put("dryRun", false);
    request.set("options", JSON.valueToTree(Map.of("apiVersion", "meta.k8s.io/v1", "kind", "CreateOptions")));
    ObjectNode review = JSON.createObjectNode();
    review.put("apiVersion", "admission.k8s.io/v1");
    review.put("kind", "AdmissionReview");
    review.set("request", request);
    return JSON.writeValueAsBytes(review);
  }

  private HttpResponse<String> post(String path, byte[] body, String contentType) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port() + path))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The response part of the answer to {@code review}, checked to be a well-formed AdmissionReview. */
  private JsonNode answer(byte[] review) throws Exception {
    HttpResponse<String> r = post("/inject", review, "application/json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode answer = JSON.readTree(r.body());
    assertThat(answer.path("apiVersion").asText()).isEqualTo("admission.k8s.io/v1");
    assertThat(answer.path("kind").asText()).isEqualTo("AdmissionReview");
    assertThat(answer.path("response").path("uid").asText())
        .isEqualTo(JSON.readTree(review).path("request").path("uid").asText());
    return answer.path("response");
  }

  /** The pod as the API server stores it after this webhook: the patch applied. */
  private JsonNode admitted(String namespace, JsonNode pod) throws Exception {
    JsonNode response = answer(review(namespace, pod));
    assertThat(response.path("allowed").asBoolean()).as(response.toString()).isTrue();
    if (!response.has("patch")) {
      assertThat(response.has("patchType")).isFalse();
      return pod;
    }
    assertThat(response.path("patchType").asText()).isEqualTo("JSONPatch");
    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
    return JsonPatch.apply(pod, patch);
  }

  @ParameterizedTest
  @ValueSource(strings = {"hello.yaml", "hello-probes.yaml", "hello-multi.yaml", "statefulset.yaml", "job.yaml",
      "daemonset.yaml", "replicaset.yaml", "replicationcontroller.yaml", "multi-init.yaml", "frontend.yaml",
      "auth.non-default-service-account.yaml"})
  void aPodGetsTheSidecarItsWorkloadGetsOffline(String input) throws Exception {
    KubeInject offline = new KubeInject(Fixtures.injector(Fixtures.config02(false, "IfNotPresent", false)),
        "default");
    List<JsonNode> workloads = Fixtures.docs(Fixtures.upstream(input)).stream()
        .filter(d -> !d.path("kind").asText().equals("Service")).toList();
    List<JsonNode> injected = Fixtures.docs(offline.inject(Fixtures.upstream(input), null)).stream()
        .filter(d -> !d.path("kind").asText().equals("Service")).toList();
    assertThat(workloads).isNotEmpty().hasSameSizeAs(injected);
    for (int i = 0; i < workloads.size(); i++) {
      JsonNode pod = podOf(workloads.get(i));

      JsonNode after = admitted("default", pod);

      JsonNode want = podOf(injected.get(i));
      assertThat(after.path("spec")).as(input).isEqualTo(want.path("spec"));
      assertThat(after.path("metadata").path("annotations").path(SidecarInjector.STATUS_ANNOTATION).asText())
          .isEqualTo("injected-version-12345678");
      // Nothing of the pod's own is lost: its containers (with their probes) come first, unchanged.
      for (int c = 0; c < pod.path("spec").path("containers").size(); c++) {
        assertThat(after.path("spec").path("containers").get(c)).isEqualTo(pod.path("spec").path("containers").get(c));
      }
    }
  }

  @Test
  void existingListsAndAnnotationsAreAppendedTo() throws Exception {
    ObjectNode pod = podOf(Fixtures.docs(Fixtures.upstream("multi-init.yaml")).get(0));
    ((ObjectNode) pod.get("metadata")).putObject("annotations").put("owner", "team-a");
    JsonNode response = answer(review("default", pod));
    JsonNode patch = JSON.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
    assertThat(patch.findValuesAsText("path")).contains("/spec/initContainers/-", "/spec/containers/-",
        "/spec/volumes", "/metadata/annotations/sidecar.istio.io~1status");

    JsonNode after = JsonPatch.apply(pod, patch);

    assertThat(after.path("spec").path("initContainers").findValuesAsText("name"))
        .containsExactly("init-one", "init-two", "istio-init");
    assertThat(after.path("metadata").path("annotations").path("owner").asText()).isEqualTo("team-a");
  }

  @Test
  void anInjectedPodIsLeftAlone() throws Exception {
    JsonNode once = admitted("default", podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0)));
    assertThat(once.path("spec").path("containers")).hasSize(2);

    JsonNode response = answer(review("default", once));

    assertThat(response.path("allowed").asBoolean()).isTrue();
    assertThat(response.has("patch")).isFalse();
    // Without the annotation (someone removed it), the proxy container still marks the pod injected.
    ObjectNode stripped = once.deepCopy();
    ((ObjectNode) stripped.path("metadata").path("annotations")).remove(SidecarInjector.STATUS_ANNOTATION);
    assertThat(answer(review("default", stripped)).has("patch")).isFalse();
  }

  @Test
  void aPodOnTheHostNetworkIsLeftAlone() throws Exception {
    JsonNode pod = podOf(Fixtures.docs(Fixtures.upstream("hello-host-network.yaml")).get(0));

    assertThat(admitted("default", pod)).isEqualTo(pod);
  }

  @Test
  void podsOptInAndOutWithTheAnnotationAgainstTheirNamespacesPolicy() throws Exception {
    ObjectNode pod = podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0));
    ObjectNode out = pod.deepCopy();
    ((ObjectNode) out.get("metadata")).putObject("annotations").put(SidecarInjector.INJECT_ANNOTATION, "false");
    ObjectNode in = pod.deepCopy();
    ((ObjectNode) in.get("metadata")).putObject("annotations").put(SidecarInjector.INJECT_ANNOTATION, "true");

    // policy enabled (the injector's default, and namespace "mesh"'s label): in unless the pod opts out
    assertThat(admitted("default", pod).path("spec").path("containers")).hasSize(2);
    assertThat(admitted("mesh", pod).path("spec").path("containers")).hasSize(2);
    assertThat(admitted("default", out)).isEqualTo(out);
    // namespace "legacy" is labelled istio-injection=disabled: out unless the pod opts in
    assertThat(admitted("legacy", pod)).isEqualTo(pod);
    assertThat(admitted("legacy", in).path("spec").path("containers")).hasSize(2);
    // system namespaces: never, whatever the pod says
    for (String system : List.of("kube-system", "kube-public", "istio-system")) {
      assertThat(admitted(system, in)).as(system).isEqualTo(in);
    }
  }

  @Test
  void otherKindsAndOperationsAreAllowedUnchanged() throws Exception {
    JsonNode pod = podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0));
    JsonNode deployment = Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0);
    for (byte[] r : List.of(review("default", pod, "UPDATE", "", "Pod", "pods"),
        review("default", deployment, "CREATE", "apps", "Deployment", "deployments"),
        review("default", JSON.createObjectNode(), "CREATE", "", "Service", "services"))) {
      JsonNode response = answer(r);
      assertThat(response.path("allowed").asBoolean()).isTrue();
      assertThat(response.has("patch")).isFalse();
    }
  }

  @Test
  void aPodWhoseServiceAccountCannotBeUsedIsRefusedWithTheReason() throws Exception {
    ObjectNode pod = podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0));
    ((ObjectNode) pod.get("spec")).put("serviceAccountName", "bad\"name\n- --evil");

    JsonNode response = answer(review("default", pod));

    assertThat(response.path("allowed").asBoolean()).isFalse();
    assertThat(response.path("status").path("code").asInt()).isEqualTo(400);
    assertThat(response.path("status").path("message").asText())
        .startsWith("sidecar injector: pod default/hello-*: spec.serviceAccountName: 'bad\"name")
        .contains("expected: a service account name");
    assertThat(handler.counts().refused()).isEqualTo(1);
  }

  @Test
  void malformedRequestsGetClearErrorsAndTheServerKeepsServing() throws Exception {
    assertError(post("/inject", "{not json".getBytes(UTF_8), "application/json"), 400, "not an AdmissionReview: not JSON");
    assertError(post("/inject", "[]".getBytes(UTF_8), "application/json"), 400, "expected a JSON object, found array");
    assertError(post("/inject", "{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\"}"
        .getBytes(UTF_8), "application/json"), 400, "apiVersion: 'admission.k8s.io/v2' (expected: admission.k8s.io/v1)");
    assertError(post("/inject", "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}"
        .getBytes(UTF_8), "application/json"), 400, "request.uid: missing");
    assertError(post("/inject", ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
        + "{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"object\":42}}")
        .getBytes(UTF_8), "application/json"), 200, "request.object.spec.containers: missing");
    assertError(post("/inject", "{}".getBytes(UTF_8), "application/yaml"), 415,
        "content type 'application/yaml' (expected: application/json)");
    assertError(post("/inject", new byte[MAX_BODY + 1], "application/json"), 413, "");
    assertError(post("/nowhere", "{}".getBytes(UTF_8), "application/json"), 404, "expected: /inject");
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
        + "/inject")).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertError(get, 405, "(expected: POST)");
    assertError(post("/inject", "[".repeat(5000).getBytes(UTF_8), "application/json"), 400, "not JSON");

    assertThat(admitted("default", podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0)))
        .path("spec").path("containers")).hasSize(2);
  }

  private static void assertError(HttpResponse<String> r, int status, String message) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains(message);
  }

  @Test
  void aStalledConnectionAndTlsGarbageDoNotStopOthers() throws Exception {
    try (Socket stalled = new Socket(InetAddress.getLoopbackAddress(), server.port());
        Socket garbage = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      OutputStream out = garbage.getOutputStream();
      out.write("GET /inject HTTP/1.1\r\n\r\n".getBytes(UTF_8));
      out.flush();
      InputStream in = garbage.getInputStream();
      // The server answers plaintext with a TLS alert at most, then closes: read to the end.
      while (in.read() >= 0) {
        // drain
      }
      assertThat(admitted("default", podOf(Fixtures.docs(Fixtures.upstream("hello.yaml")).get(0)))
          .path("spec").path("containers")).hasSize(2);
      assertThat(stalled.isClosed()).isFalse();
    }
  }

  @Test
  void probesAnswer() throws Exception {
    for (String path : List.of("/healthz", "/readyz")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.port()
          + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(200);
    }
  }
}
