package io.istio4j.pilot.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * RFC 6902 JSON Patch, applied as the API server applies a webhook's patch: {@code add}, {@code
 * remove}, {@code replace} and {@code test}, with RFC 6901 pointers; any failure throws, as the API
 * server would refuse the pod.
 */
final class JsonPatch {

  private JsonPatch() {}

  /** {@code doc} with {@code patch} applied; {@code doc} is not changed. */
  static JsonNode apply(JsonNode doc, JsonNode patch) {
    if (!patch.isArray()) {
      throw new IllegalArgumentException("a JSON Patch is an array, found " + patch.getNodeType());
    }
    JsonNode result = doc.deepCopy();
    for (JsonNode op : patch) {
      String path = op.path("path").asText(null);
      if (path == null) {
        throw new IllegalArgumentException("operation without a path: " + op);
      }
      List<String> tokens = tokens(path);
      switch (op.path("op").asText()) {
        case "add" -> result = add(result, tokens, value(op));
        case "remove" -> result = remove(result, tokens);
        case "replace" -> result = add(remove(result, tokens), tokens, value(op));
        case "test" -> {
          if (!get(result, tokens).equals(value(op))) {
            throw new IllegalArgumentException("test failed at " + path);
          }
        }
        default -> throw new IllegalArgumentException("unsupported operation " + op);
      }
    }
    return result;
  }

  private static JsonNode value(JsonNode op) {
    if (!op.has("value")) {
      throw new IllegalArgumentException("operation without a value: " + op);
    }
    return op.get("value").deepCopy();
  }

  static List<String> tokens(String pointer) {
    if (pointer.isEmpty()) {
      return List.of();
    }
    if (!pointer.startsWith("/")) {
      throw new IllegalArgumentException("pointer '" + pointer + "' does not start with /");
    }
    List<String> out = new ArrayList<>();
    for (String t : pointer.substring(1).split("/", -1)) {
      out.add(t.replace("~1", "/").replace("~0", "~"));
    }
    return out;
  }

  private static JsonNode get(JsonNode doc, List<String> tokens) {
    JsonNode n = doc;
    for (String t : tokens) {
      n = n.isArray() ? n.get(index(t, n.size() - 1)) : n.get(t);
      if (n == null) {
        throw new IllegalArgumentException("no value at /" + String.join("/", tokens));
      }
    }
    return n;
  }

  private static JsonNode add(JsonNode doc, List<String> tokens, JsonNode value) {
    if (tokens.isEmpty()) {
      return value;
    }
    JsonNode parent = get(doc, tokens.subList(0, tokens.size() - 1));
    String last = tokens.get(tokens.size() - 1);
    if (parent instanceof ObjectNode o) {
      o.set(last, value);
    } else if (parent instanceof ArrayNode a) {
      if (last.equals("-")) {
        a.add(value);
      } else {
        a.insert(index(last, a.size()), value);
      }
    } else {
      throw new IllegalArgumentException("cannot add under a " + parent.getNodeType() + " at "
          + String.join("/", tokens));
    }
    return doc;
  }

  private static JsonNode remove(JsonNode doc, List<String> tokens) {
    JsonNode parent = get(doc, tokens.subList(0, tokens.size() - 1));
    String last = tokens.get(tokens.size() - 1);
    if (parent instanceof ObjectNode o && o.has(last)) {
      o.remove(last);
    } else if (parent instanceof ArrayNode a) {
      a.remove(index(last, a.size() - 1));
    } else {
      throw new IllegalArgumentException("nothing to remove at /" + String.join("/", tokens));
    }
    return doc;
  }

  private static int index(String token, int max) {
    if (!token.matches("0|[1-9][0-9]*")) {
      throw new IllegalArgumentException("'" + token + "' is not an array index");
    }
    int i = Integer.parseInt(token);
    if (i > max) {
      throw new IllegalArgumentException("index " + i + " out of bounds (at most " + max + ")");
    }
    return i;
  }
}
