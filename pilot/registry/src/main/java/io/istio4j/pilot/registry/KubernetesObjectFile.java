package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.EndpointPort;
import io.fabric8.kubernetes.api.model.EndpointSubset;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads Kubernetes {@code v1} Service, Endpoints, Pod and Node objects from one file as
 * {@code kubectl get -o yaml} prints them: a single object, several YAML documents, or a
 * {@code kind: List} with {@code items} (also JSON). Documents are split with Jackson's YAML
 * parser (to know each one's line) and turned into fabric8's model classes by fabric8's
 * {@link KubernetesSerialization}. Other kinds are counted and skipped, so a directory may mix them.
 * A file is all or nothing: any error rejects it, naming the line and the object.
 */
final class KubernetesObjectFile {
  /** One object of a file and the line its document starts at (1-based). */
  record Located(HasMetadata object, int line) {}

  /** What a file holds. */
  record Parsed(List<Located> objects, List<String> ignoredKinds) {}

  /** A file that cannot be used; the message starts with {@code file:line:}. */
  static final class ParseException extends Exception {
    private static final long serialVersionUID = 1L;

    ParseException(String message, Throwable cause) {
      super(message, cause);
    }

    ParseException(String message) {
      super(message);
    }
  }

  private static final int MAX_MESSAGE = 300;

  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final ObjectMapper yaml;
  private final ObjectMapper json = new ObjectMapper();
  private final String domain;

  KubernetesObjectFile(String domain, long maxFileBytes) {
    this.domain = requireNonNull(domain, "domain");
    LoaderOptions loader = new LoaderOptions();
    // SnakeYAML refuses documents over 3 MB by default; our own size limit is the one that counts.
    loader.setCodePointLimit((int) Math.min(Integer.MAX_VALUE, Math.max(maxFileBytes, 3L << 20)));
    this.yaml = new ObjectMapper(YAMLFactory.builder().loaderOptions(loader).build());
  }

  Parsed parse(String file, byte[] content) throws ParseException {
    boolean isJson = file.endsWith(".json");
    List<Located> out = new ArrayList<>();
    TreeSet<String> ignored = new TreeSet<>();
    Map<String, Integer> seen = new HashMap<>();
    ObjectMapper mapper = isJson ? json : yaml;
    JsonFactory factory = mapper.getFactory();
    int docLine = 1;
    try (JsonParser parser = factory.createParser(content);
        MappingIterator<JsonNode> it = mapper.readerFor(JsonNode.class).readValues(parser)) {
      while (true) {
        if (!it.hasNextValue()) {
          break;
        }
        JsonLocation loc = parser.currentTokenLocation();
        docLine = loc == null || loc.getLineNr() < 1 ? docLine : loc.getLineNr();
        JsonNode doc = it.nextValue();
        // An empty document ("---" followed by nothing or only comments) reads as an empty string.
        if (doc == null || doc.isNull() || doc.isMissingNode() || (doc.isTextual() && doc.asText().isEmpty())) {
          continue;
        }
        if (!doc.isObject()) {
          throw new ParseException(file + ":" + docLine + ": a document is a " + doc.getNodeType()
              + ", not an object (expected: a Kubernetes object with apiVersion and kind)");
        }
        String kind = doc.path("kind").asText("");
        if (kind.endsWith("List") && doc.has("items")) {
          JsonNode items = doc.get("items");
          if (items.isNull()) {
            continue;
          }
          if (!items.isArray()) {
            throw new ParseException(file + ":" + docLine + ": " + kind + ".items is not a list");
          }
          for (int i = 0; i < items.size(); i++) {
            convert(file, docLine, kind + ".items[" + i + "]: ", items.get(i), out, ignored, seen);
          }
        } else {
          convert(file, docLine, "", doc, out, ignored, seen);
        }
      }
    } catch (JsonProcessingException e) {
      JsonLocation loc = e.getLocation();
      int line = loc == null || loc.getLineNr() < 1 ? docLine : loc.getLineNr();
      throw new ParseException(file + ":" + line + ": " + shorten(e.getOriginalMessage()), e);
    } catch (IOException e) {
      throw new ParseException(file + ":" + docLine + ": " + shorten(e.toString()), e);
    } catch (RuntimeException e) {
      // SnakeYAML's own limits (code points, aliases, nesting) surface as unchecked exceptions.
      throw new ParseException(file + ":" + docLine + ": " + shorten(e.getMessage()), e);
    }
    return new Parsed(List.copyOf(out), List.copyOf(ignored));
  }

  private void convert(
      String file, int line, String where, JsonNode node, List<Located> out, TreeSet<String> ignored,
      Map<String, Integer> seen) throws ParseException {
    if (!node.isObject()) {
      throw new ParseException(file + ":" + line + ": " + where + "not an object");
    }
    String kind = node.path("kind").asText("");
    String apiVersion = node.path("apiVersion").asText("v1");
    Class<? extends HasMetadata> type = switch (kind) {
      case "Service" -> Service.class;
      case "Endpoints" -> Endpoints.class;
      case "Pod" -> Pod.class;
      case "Node" -> Node.class;
      default -> null;
    };
    if (kind.isEmpty()) {
      throw new ParseException(file + ":" + line + ": " + where + "kind is missing (expected: Service, Endpoints, Pod or Node)");
    }
    if (type == null || !"v1".equals(apiVersion)) {
      ignored.add(apiVersion + "/" + kind);
      return;
    }
    String name = node.path("metadata").path("name").asText("");
    String ns = node.path("metadata").path("namespace").asText("");
    String what = kind + " " + (type == Node.class ? name : (ns.isEmpty() ? "default" : ns) + "/" + name);
    if (name.isEmpty()) {
      throw new ParseException(file + ":" + line + ": " + where + kind + ": metadata.name is missing");
    }
    HasMetadata obj;
    try {
      obj = serialization.convertValue(node, type);
    } catch (IllegalArgumentException e) {
      throw new ParseException(file + ":" + line + ": " + where + what + ": " + mappingMessage(e), e);
    }
    try {
      validate(what, obj);
    } catch (IllegalArgumentException e) {
      String msg = e.getMessage();
      throw new ParseException(file + ":" + line + ": " + where + (msg.startsWith(what) ? msg : what + ": " + msg), e);
    }
    Integer previous = seen.put(what, line);
    if (previous != null) {
      throw new ParseException(
          file + ":" + line + ": " + where + what + " is defined twice in this file (first at line " + previous + ")");
    }
    out.add(new Located(obj, line));
  }

  private void validate(String what, HasMetadata obj) {
    if (obj instanceof Service s) {
      KubernetesConversion.service(s, domain);
    } else if (obj instanceof Endpoints e) {
      KubernetesConversion.checkName(what, "metadata.name", e.getMetadata().getName());
      KubernetesConversion.checkName(what, "metadata.namespace", KubernetesConversion.namespace(e.getMetadata()));
      if (e.getSubsets() != null) {
        for (int i = 0; i < e.getSubsets().size(); i++) {
          EndpointSubset s = e.getSubsets().get(i);
          if (s == null || s.getPorts() == null) {
            continue;
          }
          for (int j = 0; j < s.getPorts().size(); j++) {
            EndpointPort p = s.getPorts().get(j);
            if (p == null || p.getPort() == null || p.getPort() < 1 || p.getPort() > 65535) {
              throw new IllegalArgumentException(what + ": subsets[" + i + "].ports[" + j + "].port "
                  + (p == null ? null : p.getPort()) + " (expected: 1-65535)");
            }
          }
        }
      }
    } else if (obj instanceof Pod p) {
      KubernetesConversion.checkName(what, "metadata.namespace", KubernetesConversion.namespace(p.getMetadata()));
    }
  }

  // Jackson's message names Java classes; say instead which field of the object was wrong.
  private static String mappingMessage(IllegalArgumentException e) {
    if (!(e.getCause() instanceof JsonMappingException m)) {
      return shorten(e.getMessage());
    }
    StringBuilder path = new StringBuilder();
    for (JsonMappingException.Reference r : m.getPath()) {
      if (r.getFieldName() != null) {
        path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        path.append('[').append(r.getIndex()).append(']');
      }
    }
    String msg = m.getOriginalMessage();
    return shorten((path.length() == 0 ? "" : path + ": ") + msg);
  }

  private static String shorten(String s) {
    if (s == null) {
      return "(no message)";
    }
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= MAX_MESSAGE ? one : one.substring(0, MAX_MESSAGE) + "...";
  }
}
