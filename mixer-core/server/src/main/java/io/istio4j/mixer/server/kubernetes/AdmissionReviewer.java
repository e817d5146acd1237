package io.istio4j.mixer.server.kubernetes;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.istio4j.http.WebhookServer;
import io.istio4j.http.WebhookServer.BadReviewException;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.ObjectStatus;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Snapshot;
import io.istio4j.mixer.runtime.SnapshotBuilder;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigObject;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.ConfigStore.Content;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code admission.k8s.io/v1} AdmissionReviews for Mixer's kinds by building the config
 * as it would be after the change, exactly as {@code mixs validate} and a serving Mixer build it
 * (handlers are validated by their adapters, never built), and comparing it with the config as it
 * is.
 *
 * <ul>
 *   <li>CREATE and UPDATE are refused when the object itself is rejected, or when the change would
 *       reject another object (an instance edited into a type its rule's handler cannot take); the
 *       message is the one {@code mixs validate} prints for each, one per line;
 *   <li>DELETE is refused while live objects still use the object (a rule naming the handler), since
 *       Mixer would then drop them (a deny rule silently stops denying); the message names them.
 *       The namespace controller and the garbage collector are let through with a warning, so that
 *       deleting a namespace never hangs on the order in which its objects go;
 *   <li>objects of other groups, or of kinds this build does not have, are allowed untouched.
 * </ul>
 *
 * <p>The config as it is comes from the validator's store (the informers' view). Objects this
 * reviewer allowed in the last {@link #RECENT} stand in for the informers' view of them, so that
 * {@code kubectl apply} of a handler and then a rule is not refused because the handler's watch
 * event has not arrived yet.
 */
public final class AdmissionReviewer implements WebhookServer.Reviewer {

  private static final Logger log = LoggerFactory.getLogger(AdmissionReviewer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** How long an allowed change stands in for the informers' view of its object. */
  static final Duration RECENT = Duration.ofSeconds(30);
  /** At most this many problems are listed in one answer. */
  private static final int MAX_LISTED = 10;
  /** Service accounts whose deletes are never refused (namespace deletion must not hang). */
  static final Set<String> DELETE_EXEMPT = Set.of(
      "system:serviceaccount:kube-system:namespace-controller",
      "system:serviceaccount:kube-system:generic-garbage-collector");

  /** A recently allowed version of an object; null object for a delete. */
  private record Recent(ConfigObject object, Instant until) {}

  private final Templates templates;
  private final Adapters adapters;
  private final RuntimeOptions options;
  private final Supplier<Content> current;
  private final Clock clock;
  private final Map<String, MixerKind> byPlural = new HashMap<>();
  private final Map<String, Recent> recent = new HashMap<>();
  private final SnapshotBuilder builder;
  /** The config the last review found, and its rejections: most reviews find the same config. */
  private Content lastBefore;
  private Set<String> lastBeforeRejections = Set.of();

  /**
   * @param templates the build's templates
   * @param adapters the build's adapters
   * @param options whose default namespace is Mixer's
   * @param current the config as it is now
   * @param clock for the recently allowed changes
   */
  public AdmissionReviewer(Templates templates, Adapters adapters, RuntimeOptions options, Supplier<Content> current,
      Clock clock) {
    this.templates = requireNonNull(templates, "templates");
    this.adapters = requireNonNull(adapters, "adapters");
    this.options = requireNonNull(options, "options");
    this.current = requireNonNull(current, "current");
    this.clock = requireNonNull(clock, "clock");
    for (MixerKind k : MixerKind.of(templates, adapters)) {
      byPlural.put(k.plural(), k);
    }
    this.builder = SnapshotBuilder.forValidation(templates, adapters, options);
  }

  /**
   * The AdmissionReview answering {@code body}.
   *
   * @throws BadReviewException naming what is wrong with the review itself
   */
  @Override
  public byte[] review(byte[] body) throws BadReviewException {
    JsonNode review;
    try {
      review = JSON.readTree(body);
    } catch (IOException e) {
      throw new BadReviewException("not JSON: " + (e instanceof JsonProcessingException j ? j.getOriginalMessage()
          : e.getMessage()));
    }
    if (review == null || !review.isObject()) {
      throw new BadReviewException("not a JSON object (expected: an admission.k8s.io/v1 AdmissionReview)");
    }
    if (!"admission.k8s.io/v1".equals(review.path("apiVersion").asText())
        || !"AdmissionReview".equals(review.path("kind").asText())) {
      throw new BadReviewException("apiVersion '" + review.path("apiVersion").asText() + "', kind '"
          + review.path("kind").asText() + "' (expected: admission.k8s.io/v1 AdmissionReview)");
    }
    JsonNode request = review.path("request");
    if (!request.isObject() || !request.path("uid").isTextual() || request.path("uid").asText().isEmpty()) {
      throw new BadReviewException("request.uid: required (expected: a request with a uid)");
    }
    Verdict v = verdict(request);
    ObjectNode response = JSON.createObjectNode();
    response.put("uid", request.path("uid").asText());
    response.put("allowed", v.allowed());
    if (!v.allowed()) {
      ObjectNode status = response.putObject("status");
      status.put("code", v.code());
      status.put("reason", v.code() == 409 ? "Conflict" : "Invalid");
      status.put("message", v.message());
    }
    if (!v.warnings().isEmpty()) {
      ArrayNode w = response.putArray("warnings");
      v.warnings().forEach(w::add);
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("apiVersion", "admission.k8s.io/v1");
    out.put("kind", "AdmissionReview");
    out.set("response", response);
    try {
      return JSON.writeValueAsBytes(out);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an answer of maps and strings is always JSON", e);
    }
  }

  /**
   * The decision on one request.
   *
   * @param code the HTTP-like status the API server shows for a refusal (422 invalid, 409 in use)
   */
  record Verdict(boolean allowed, int code, String message, List<String> warnings) {
    static Verdict allow(List<String> warnings) {
      return new Verdict(true, 200, "", warnings);
    }
  }

  private Verdict verdict(JsonNode request) throws BadReviewException {
    JsonNode resource = request.path("resource");
    if (!MixerKind.GROUP.equals(resource.path("group").asText())) {
      return Verdict.allow(List.of());
    }
    MixerKind kind = byPlural.get(resource.path("resource").asText());
    if (kind == null) {
      return Verdict.allow(List.of("this Mixer build has no kind '" + resource.path("resource").asText()
          + "' (mixs inventory lists them); its objects are not used"));
    }
    String operation = request.path("operation").asText();
    String namespace = request.path("namespace").asText(options.defaultNamespace());
    String name = request.path("name").asText();
    boolean dryRun = request.path("dryRun").asBoolean(false);
    String user = request.path("userInfo").path("username").asText();
    synchronized (this) { // one review at a time: they share the recently allowed changes
      return switch (operation) {
        case "CREATE", "UPDATE" -> upsert(kind, request.path("object"), namespace, dryRun);
        case "DELETE" -> delete(kind, namespace, name.isEmpty()
            ? request.path("oldObject").path("metadata").path("name").asText() : name, user, dryRun);
        default -> Verdict.allow(List.of());
      };
    }
  }

  private Verdict upsert(MixerKind kind, JsonNode object, String namespace, boolean dryRun) throws BadReviewException {
    if (!object.isObject()) {
      throw new BadReviewException("request.object: required for CREATE and UPDATE (expected: the object)");
    }
    GenericKubernetesResource r;
    try {
      r = JSON.treeToValue(object, GenericKubernetesResource.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw new BadReviewException("request.object: not a Kubernetes object: " + e.getMessage());
    }
    if (r.getMetadata() != null
        && (r.getMetadata().getNamespace() == null || r.getMetadata().getNamespace().isEmpty())) {
      r.getMetadata().setNamespace(namespace);
    }
    List<ConfigStore.Problem> problems = new ArrayList<>();
    String name = r.getMetadata() == null ? "" : String.valueOf(r.getMetadata().getName());
    ConfigObject o = KubernetesStore.toObject(kind, r, options.defaultNamespace(), problems);
    if (o == null) {
      return new Verdict(false, 422, String.join("\n", problems.stream().map(ConfigStore.Problem::toString).toList()),
          List.of());
    }
    // The source the object will have once stored, minus its version: what mixs validate names a file.
    o = new ConfigObject(o.kind(), o.namespace(), o.name(), o.labels(), o.spec(),
        KubernetesStore.source(kind, o.namespace(), name));
    Content before = now();
    Content after = replace(before, o.fqn(), o);
    List<String> broken = newRejections(before, after, o.fqn());
    if (!broken.isEmpty()) {
      return new Verdict(false, 422, limited(broken), List.of());
    }
    if (!dryRun) {
      recent.put(o.fqn(), new Recent(o, clock.instant().plus(RECENT)));
    }
    return Verdict.allow(List.of());
  }

  private Verdict delete(MixerKind kind, String namespace, String name, String user, boolean dryRun) {
    String fqn = name + "." + kind.name() + "." + namespace;
    Content before = now();
    Content after = replace(before, fqn, null);
    List<String> broken = newRejections(before, after, null);
    if (!broken.isEmpty()) {
      String message = fqn + " is still in use; deleting it would reject:\n" + limited(broken)
          + "\n(change or delete those first)";
      if (!DELETE_EXEMPT.contains(user)) {
        return new Verdict(false, 409, message, List.of());
      }
      log.info("admission: allowing {} to delete {} though it is in use: {}", user, fqn, oneLine(message));
      if (!dryRun) {
        recent.put(fqn, new Recent(null, clock.instant().plus(RECENT)));
      }
      return Verdict.allow(List.of(truncate(oneLine(message), 512)));
    }
    if (!dryRun) {
      recent.put(fqn, new Recent(null, clock.instant().plus(RECENT)));
    }
    return Verdict.allow(List.of());
  }

  /** The store's content with the recently allowed changes in place of its view of them. */
  private Content now() {
    Content c = current.get();
    Instant t = clock.instant();
    for (Iterator<Recent> it = recent.values().iterator(); it.hasNext(); ) {
      if (it.next().until().isBefore(t)) {
        it.remove();
      }
    }
    for (Map.Entry<String, Recent> e : recent.entrySet()) {
      c = replace(c, e.getKey(), e.getValue().object());
    }
    return c;
  }

  /** {@code content} with every object named {@code fqn} replaced by {@code object} (null: removed). */
  private static Content replace(Content content, String fqn, ConfigObject object) {
    List<ConfigObject> objects = new ArrayList<>();
    for (ConfigObject o : content.objects()) {
      if (!o.fqn().equals(fqn)) {
        objects.add(o);
      }
    }
    if (object != null) {
      objects.add(object);
    }
    List<ConfigStore.Problem> problems = new ArrayList<>();
    for (ConfigStore.Problem p : content.problems()) {
      if (!p.fqn().equals(fqn)) {
        problems.add(p);
      }
    }
    return new Content(objects, problems, content.unreadableFiles());
  }

  /**
   * The rejections {@code after} has that {@code before} does not, as {@code mixs validate} prints
   * them; those of {@code self} (when not null) count even when it was rejected before too.
   */
  private List<String> newRejections(Content before, Content after, String self) {
    Set<String> old = rejections(before);
    List<String> mine = new ArrayList<>();
    List<String> others = new ArrayList<>();
    for (ObjectStatus s : build(after).statuses()) {
      if (!s.isRejection()) {
        continue;
      }
      if (s.fqn().equals(self)) {
        mine.add(s.describe());
      } else if (!old.contains(s.fqn() + "|" + s.field() + "|" + s.error())) {
        others.add(s.describe());
      }
    }
    mine.addAll(others);
    return mine;
  }

  /** The rejections of {@code before}, from the last review when the config has not changed since. */
  private Set<String> rejections(Content before) {
    if (lastBefore != null && lastBefore.objects().equals(before.objects())
        && lastBefore.problems().equals(before.problems())) {
      return lastBeforeRejections;
    }
    Set<String> old = new LinkedHashSet<>();
    for (ObjectStatus s : build(before).statuses()) {
      if (s.isRejection()) {
        old.add(s.fqn() + "|" + s.field() + "|" + s.error());
      }
    }
    lastBefore = before;
    lastBeforeRejections = old;
    return old;
  }

  private Snapshot build(Content content) {
    return builder.build(content, null, 1);
  }

  private static String limited(List<String> lines) {
    if (lines.size() <= MAX_LISTED) {
      return String.join("\n", lines);
    }
    return String.join("\n", lines.subList(0, MAX_LISTED)) + "\nand " + (lines.size() - MAX_LISTED) + " more";
  }

  private static String oneLine(String s) {
    return s.replace("\r", "").replace("\n", " | ");
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }
}
