package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.util.StringQuotingChecker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Offline injection, as {@code istioctl kube-inject -f in.yaml}: every Pod, Deployment,
 * StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job and CronJob in a YAML stream (and
 * in the {@code items} of a {@code List}) gets the sidecar its pod template would get from the
 * webhook; other documents pass through unchanged. As upstream, an injected workload carries
 * {@code sidecar.istio.io/status} on itself and on its pod template, so the webhook leaves its pods
 * alone.
 */
public final class KubeInject {

  private static final ObjectMapper YAML_IN = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper YAML_OUT = new ObjectMapper(YAMLFactory.builder()
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
      .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .stringQuotingChecker(new QuoteNumberLike())
      .build());

  /**
   * Also quotes strings that a YAML 1.1 reader (kubectl's) would take for something else: dates
   * ({@code 2017-11-21}), base-60 numbers ({@code 12:30}) and the like all start with a digit, a
   * sign or a dot.
   */
  private static final class QuoteNumberLike extends StringQuotingChecker.Default {
    private static final long serialVersionUID = 1L;

    @Override
    public boolean needToQuoteValue(String value) {
      if (!value.isEmpty()) {
        char c = value.charAt(0);
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
          return true;
        }
      }
      return super.needToQuoteValue(value);
    }
  }
  /** Kinds whose pod template is {@code spec.template}. */
  private static final Set<String> TEMPLATED = Set.of("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
      "ReplicationController", "Job");

  /** What happened to one object. */
  public record Outcome(String kind, String name, SidecarInjector.Decision decision) {}

  private final SidecarInjector injector;
  private final String defaultNamespace;

  /**
   * @param defaultNamespace the namespace of objects that do not name one (kubectl's {@code -n})
   */
  public KubeInject(SidecarInjector injector, String defaultNamespace) {
    this.injector = requireNonNull(injector, "injector");
    this.defaultNamespace = requireNonNull(defaultNamespace, "defaultNamespace");
  }

  /**
   * The documents in {@code yaml}, injected, as YAML documents separated by {@code ---}.
   *
   * @param outcomes receives what was decided for each workload, in order; may be null
   * @throws IllegalArgumentException naming the document and the problem
   */
  public String inject(String yaml, @Nullable List<Outcome> outcomes) {
    requireNonNull(yaml, "yaml");
    StringBuilder out = new StringBuilder(yaml.length() * 4);
    refuseAliases(yaml);
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML_IN.readerFor(JsonNode.class).readValues(yaml)) {
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("document " + (docs.size() + 1) + ": not YAML: " + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the input: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // MappingIterator wraps parse errors in unchecked exceptions.
      throw new IllegalArgumentException("document " + (docs.size() + 1) + ": not YAML: " + e.getMessage(), e);
    }
    int n = 0;
    for (JsonNode doc : docs) {
      n++;
      if (doc == null || doc.isNull() || doc.isMissingNode() || (doc.isObject() && doc.isEmpty())) {
        continue;
      }
      try {
        injectObject(doc, outcomes);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("document " + n + " (" + doc.path("kind").asText("?") + " "
            + doc.path("metadata").path("name").asText("?") + "): " + e.getMessage(), e);
      }
      try {
        out.append(YAML_OUT.writeValueAsString(doc)).append("---\n");
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write document " + n + ": " + e.getMessage(), e);
      }
    }
    return out.toString();
  }

  /**
   * Jackson's YAML trees keep an alias ({@code *name}) as the string {@code name}, not as the value
   * it names: writing such a tree back would silently change the object, so such input is refused.
   */
  static void refuseAliases(String yaml) {
    try (YAMLParser p = (YAMLParser) YAML_IN.getFactory().createParser(yaml)) {
      for (int nulls = 0; nulls < 2; ) {
        JsonToken t;
        try {
          t = p.nextToken();
        } catch (IOException | RuntimeException e) {
          return; // not YAML: the real parse below reports it, with its document number
        }
        if (t == null) {
          nulls++;
          continue;
        }
        nulls = 0;
        if (p.isCurrentAlias()) {
          throw new IllegalArgumentException("line " + p.currentTokenLocation().getLineNr() + ": YAML alias *" + p.getText()
              + " (expected: plain values; expand anchors and aliases first, as kubectl get -o yaml writes them)");
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the input: " + e.getMessage(), e);
    }
  }

  private void injectObject(JsonNode doc, @Nullable List<Outcome> outcomes) {
    if (!(doc instanceof ObjectNode object)) {
      return;
    }
    String kind = object.path("kind").asText("");
    if (kind.equals("List") && object.path("items").isArray()) {
      for (JsonNode item : object.get("items")) {
        injectObject(item, outcomes);
      }
      return;
    }
    JsonNode template;
    if (kind.equals("Pod")) {
      template = object;
    } else if (TEMPLATED.contains(kind)) {
      template = object.path("spec").path("template");
    } else if (kind.equals("CronJob")) {
      template = object.path("spec").path("jobTemplate").path("spec").path("template");
    } else {
      return;
    }
    if (!(template instanceof ObjectNode t) || !(t.get("spec") instanceof ObjectNode spec)) {
      throw new IllegalArgumentException((kind.equals("Pod") ? "spec" : "the pod template's spec")
          + ": missing (expected: a pod spec with containers)");
    }
    if (!spec.path("containers").isArray()) {
      throw new IllegalArgumentException("containers: expected a list");
    }
    ObjectNode objectMeta = object.get("metadata") instanceof ObjectNode m ? m : object.putObject("metadata");
    ObjectNode podMeta = t.get("metadata") instanceof ObjectNode m ? m : t.putObject("metadata");
    String namespace = objectMeta.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = defaultNamespace;
    }
    boolean isPod = kind.equals("Pod");
    Map<String, String> workloadAnnotations = isPod ? Map.of()
        : SidecarInjector.strings(objectMeta.path("annotations"));
    SidecarInjector.Decision d = injector.decide(namespace, null, workloadAnnotations, podMeta, spec);
    if (outcomes != null) {
      outcomes.add(new Outcome(kind, objectMeta.path("name").asText(""), d));
    }
    if (!d.inject()) {
      return;
    }
    SidecarInjector.Injection injection = injector.injection(namespace, podMeta, spec);
    Patches.apply(injection, podMeta, spec);
    if (!isPod) {
      Patches.annotate(objectMeta, injection.annotations());
    }
  }
}
