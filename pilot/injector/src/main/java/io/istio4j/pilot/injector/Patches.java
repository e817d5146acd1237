package io.istio4j.pilot.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.istio4j.pilot.injector.SidecarInjector.Injection;
import java.util.List;
import java.util.Map;

/** An {@link Injection} applied in place (offline) or written as an RFC 6902 JSON Patch (webhook). */
final class Patches {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Patches() {}

  /** Appends the sidecar to {@code spec}'s lists and sets the annotations on {@code metadata}. */
  static void apply(Injection injection, ObjectNode metadata, ObjectNode spec) {
    append(spec, "initContainers", injection.sidecar().initContainers());
    append(spec, "containers", injection.sidecar().containers());
    append(spec, "volumes", injection.sidecar().volumes());
    annotate(metadata, injection.annotations());
  }

  static void annotate(ObjectNode metadata, Map<String, String> annotations) {
    JsonNode existing = metadata.get("annotations");
    ObjectNode target = existing instanceof ObjectNode o ? o : metadata.putObject("annotations");
    annotations.forEach(target::put);
  }

  private static void append(ObjectNode spec, String field, List<ObjectNode> items) {
    if (items.isEmpty()) {
      return;
    }
    JsonNode existing = spec.get(field);
    ArrayNode list = existing instanceof ArrayNode a ? a : spec.putArray(field);
    items.forEach(i -> list.add(i.deepCopy()));
  }

  /**
   * The JSON Patch that makes {@code pod} (the AdmissionReview's object) injected: an {@code add}
   * of each list the pod lacks, else an {@code add} at {@code /-} for each item, and the same for
   * the annotations.
   */
  static ArrayNode jsonPatch(Injection injection, JsonNode pod) {
    ArrayNode ops = NODES.arrayNode();
    JsonNode spec = pod.path("spec");
    listOps(ops, spec, "/spec/initContainers", "initContainers", injection.sidecar().initContainers());
    listOps(ops, spec, "/spec/containers", "containers", injection.sidecar().containers());
    listOps(ops, spec, "/spec/volumes", "volumes", injection.sidecar().volumes());
    JsonNode metadata = pod.get("metadata");
    if (!(metadata instanceof ObjectNode)) {
      ObjectNode m = NODES.objectNode();
      annotate(m, injection.annotations());
      ops.add(op("add", "/metadata", m));
    } else if (!(metadata.get("annotations") instanceof ObjectNode)) {
      ObjectNode a = NODES.objectNode();
      injection.annotations().forEach(a::put);
      ops.add(op("add", "/metadata/annotations", a));
    } else {
      injection.annotations().forEach((k, v) ->
          ops.add(op("add", "/metadata/annotations/" + escape(k), NODES.textNode(v))));
    }
    return ops;
  }

  private static void listOps(ArrayNode ops, JsonNode spec, String path, String field, List<ObjectNode> items) {
    if (items.isEmpty()) {
      return;
    }
    if (spec.get(field) instanceof ArrayNode) {
      for (ObjectNode item : items) {
        ops.add(op("add", path + "/-", item.deepCopy()));
      }
    } else {
      ArrayNode all = NODES.arrayNode();
      items.forEach(i -> all.add(i.deepCopy()));
      ops.add(op("add", path, all));
    }
  }

  private static ObjectNode op(String op, String path, JsonNode value) {
    ObjectNode o = NODES.objectNode();
    o.put("op", op);
    o.put("path", path);
    o.set("value", value);
    return o;
  }

  /** A JSON Pointer reference token (RFC 6901): {@code ~} as {@code ~0}, {@code /} as {@code ~1}. */
  static String escape(String token) {
    return token.replace("~", "~0").replace("/", "~1");
  }
}
