package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code admission.k8s.io/v1} AdmissionReviews (and {@code v1beta1}, in kind) for pods: a
 * pod the {@link SidecarInjector} decides to inject is allowed with a {@code JSONPatch} that adds
 * the sidecar and the status annotation; any other pod, any other kind and any operation but CREATE
 * is allowed unchanged. A pod whose service account or {@code app} label cannot be used is refused
 * with the reason (the API server would refuse it too, a moment later).
 */
public final class AdmissionHandler {

  private static final Logger log = LoggerFactory.getLogger(AdmissionHandler.class);
  /** Nesting bounded well above any pod's, so a hostile body cannot exhaust the stack. */
  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(200).build())
          .build())
      .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .build();

  /** A body that is not an AdmissionReview: answered with HTTP 400 and this message. */
  public static final class BadReviewException extends Exception {
    private static final long serialVersionUID = 1L;

    BadReviewException(String message) {
      super(message);
    }
  }

  private final SidecarInjector injector;
  private final NamespaceLabels namespaces;
  private final LongAdder injected = new LongAdder();
  private final LongAdder skipped = new LongAdder();
  private final LongAdder refused = new LongAdder();

  /** A handler injecting with {@code injector}, learning namespaces' labels from {@code namespaces}. */
  public AdmissionHandler(SidecarInjector injector, NamespaceLabels namespaces) {
    this.injector = requireNonNull(injector, "injector");
    this.namespaces = requireNonNull(namespaces, "namespaces");
  }

  /** Counts since start: pods injected, pods left alone, pods refused. */
  public record Counts(long injected, long skipped, long refused) {}

  /** What the handler has done. */
  public Counts counts() {
    return new Counts(injected.sum(), skipped.sum(), refused.sum());
  }

  /**
   * The AdmissionReview answering {@code body}.
   *
   * @throws BadReviewException when the body is not JSON, not an AdmissionReview, or has no request uid
   */
  public byte[] review(byte[] body) throws BadReviewException {
    JsonNode review;
    try {
      review = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BadReviewException("not JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new BadReviewException("cannot read the body: " + e.getMessage());
    }
    if (review == null || !review.isObject()) {
      throw new BadReviewException("expected a JSON object, found "
          + (review == null ? "nothing" : review.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    String apiVersion = review.path("apiVersion").asText("");
    if (!apiVersion.equals("admission.k8s.io/v1") && !apiVersion.equals("admission.k8s.io/v1beta1")) {
      throw new BadReviewException("apiVersion: '" + apiVersion + "' (expected: admission.k8s.io/v1)");
    }
    if (!review.path("kind").asText("").equals("AdmissionReview")) {
      throw new BadReviewException("kind: '" + review.path("kind").asText("") + "' (expected: AdmissionReview)");
    }
    JsonNode request = review.get("request");
    if (request == null || !request.isObject()) {
      throw new BadReviewException("request: missing (expected: the AdmissionRequest)");
    }
    JsonNode uid = request.get("uid");
    if (uid == null || !uid.isTextual() || uid.asText().isEmpty()) {
      throw new BadReviewException("request.uid: missing (expected: the request's uid, echoed in the response)");
    }
    ObjectNode response = JSON.createObjectNode();
    response.put("uid", uid.asText());
    decide(request, response);
    ObjectNode answer = JSON.createObjectNode();
    answer.put("apiVersion", apiVersion);
    answer.put("kind", "AdmissionReview");
    answer.set("response", response);
    try {
      return JSON.writeValueAsBytes(answer);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the AdmissionReview response: " + e.getMessage(), e);
    }
  }

  private void decide(JsonNode request, ObjectNode response) {
    response.put("allowed", true);
    String kind = request.path("kind").path("kind").asText("");
    String group = request.path("kind").path("group").asText("");
    String operation = request.path("operation").asText("");
    if (!kind.equals("Pod") || !group.isEmpty() || !operation.equals("CREATE")
        || !request.path("subResource").asText("").isEmpty()) {
      return; // not ours: webhook configs that match too much must not break anything
    }
    JsonNode pod = request.get("object");
    String name = describe(request, pod);
    if (!(pod instanceof ObjectNode) || !(pod.get("spec") instanceof ObjectNode spec)
        || !(spec.get("containers") instanceof ArrayNode)) {
      refuse(response, name, "request.object.spec.containers: missing (expected: a pod with containers)");
      return;
    }
    String namespace = request.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = pod.path("metadata").path("namespace").asText("default");
    }
    SidecarInjector.Decision d = injector.decide(namespace, namespaces.labels(namespace), Map.of(),
        pod.path("metadata"), spec);
    if (!d.inject()) {
      skipped.increment();
      log.debug("injector: {} left alone: {}", name, d.reason());
      return;
    }
    SidecarInjector.Injection injection;
    try {
      injection = injector.injection(namespace, pod.path("metadata"), spec);
    } catch (IllegalArgumentException e) {
      refuse(response, name, e.getMessage());
      return;
    }
    ArrayNode patch = Patches.jsonPatch(injection, pod);
    try {
      response.put("patchType", "JSONPatch");
      response.put("patch", Base64.getEncoder().encodeToString(JSON.writeValueAsBytes(patch)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the patch: " + e.getMessage(), e);
    }
    injected.increment();
    log.debug("injector: {} injected: {}", name, d.reason());
  }

  private void refuse(ObjectNode response, String name, String message) {
    refused.increment();
    response.put("allowed", false);
    ObjectNode status = response.putObject("status");
    status.put("code", 400);
    status.put("reason", "BadRequest");
    status.put("message", "sidecar injector: pod " + name + ": " + message);
  }

  private static String describe(JsonNode request, JsonNode pod) {
    String ns = request.path("namespace").asText("");
    String n = request.path("name").asText("");
    if (n.isEmpty() && pod != null) {
      n = pod.path("metadata").path("name").asText("");
      if (n.isEmpty()) {
        n = pod.path("metadata").path("generateName").asText("") + "*";
      }
    }
    return (ns.isEmpty() ? "" : ns + "/") + n;
  }
}
