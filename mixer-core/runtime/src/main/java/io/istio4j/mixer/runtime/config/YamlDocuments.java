package io.istio4j.mixer.runtime.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads {@code ---}-separated YAML documents into config objects, one problem per bad document. */
public final class YamlDocuments {

  static final String API_VERSION = "config.istio.io/v1alpha2";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private YamlDocuments() {}

  /**
   * Parses {@code text} from {@code file}; objects without a namespace get {@code
   * defaultNamespace}.
   */
  public static void parse(String file, String text, String defaultNamespace, List<ConfigObject> objects,
      List<ConfigStore.Problem> problems) {
    List<Object> docs = new ArrayList<>();
    try (JsonParser parser = YAML.getFactory().createParser(text)) {
      MappingIterator<Object> it = YAML.readValues(parser, Object.class);
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    } catch (IOException | RuntimeException e) {
      problems.add(new ConfigStore.Problem(file, "not valid YAML: " + firstLine(e.getMessage())));
      return;
    }
    int n = 0;
    for (Object doc : docs) {
      n++;
      if (doc == null) {
        continue; // an empty document, e.g. after a trailing ---
      }
      String source = docs.size() == 1 ? file : file + "#" + n;
      try {
        objects.add(object(doc, source, defaultNamespace));
      } catch (IllegalArgumentException e) {
        problems.add(new ConfigStore.Problem(source, e.getMessage()));
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static ConfigObject object(Object doc, String source, String defaultNamespace) {
    if (!(doc instanceof Map)) {
      throw new IllegalArgumentException("a config document must be a map with kind, metadata and spec");
    }
    Map<String, Object> m = (Map<String, Object>) doc;
    Object apiVersion = m.get("apiVersion");
    if (apiVersion != null && !API_VERSION.equals(apiVersion)) {
      throw new IllegalArgumentException("apiVersion '" + apiVersion + "' (expected: " + API_VERSION + ")");
    }
    String kind = string(m.get("kind"), "kind");
    if (!(m.get("metadata") instanceof Map)) {
      throw new IllegalArgumentException("metadata: required, with name and namespace");
    }
    Map<String, Object> metadata = (Map<String, Object>) m.get("metadata");
    String name = string(metadata.get("name"), "metadata.name");
    Object ns = metadata.get("namespace");
    String namespace = ns == null ? defaultNamespace : string(ns, "metadata.namespace");
    Map<String, String> labels = new LinkedHashMap<>();
    if (metadata.get("labels") instanceof Map) {
      ((Map<String, Object>) metadata.get("labels")).forEach((k, v) -> labels.put(k, String.valueOf(v)));
    } else if (metadata.get("labels") != null) {
      throw new IllegalArgumentException("metadata.labels: must be a map");
    }
    Object spec = m.get("spec");
    if (spec != null && !(spec instanceof Map)) {
      throw new IllegalArgumentException("spec: must be a map");
    }
    return new ConfigObject(kind, namespace, name, labels,
        spec == null ? Map.of() : (Map<String, Object>) spec, source);
  }

  private static String string(Object v, String field) {
    if (!(v instanceof String) || ((String) v).isEmpty()) {
      throw new IllegalArgumentException(field + ": required, a non-empty string");
    }
    return (String) v;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
