package io.istio4j.mixer.runtime.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
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
   *
   * @return false when the file is not valid YAML: then it adds one problem naming the line and
   *     column and no object, even for the documents before the error (the file as a whole is
   *     unreadable, so the runtime keeps the last good version of everything it held)
   */
  public static boolean parse(String file, String text, String defaultNamespace, List<ConfigObject> objects,
      List<ConfigStore.Problem> problems) {
    List<Object> docs = new ArrayList<>();
    try (JsonParser parser = YAML.getFactory().createParser(text)) {
      MappingIterator<Object> it = YAML.readValues(parser, Object.class);
      while (it.hasNextValue()) {
        docs.add(it.nextValue());
      }
    } catch (IOException | RuntimeException | StackOverflowError e) {
      problems.add(new ConfigStore.Problem(file, yamlError(file, e)));
      return false;
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
        problems.add(new ConfigStore.Problem(source, e.getMessage(), identity(doc, defaultNamespace)));
      }
    }
    return true;
  }

  /**
   * Reads one document that is already maps and lists (a Kubernetes object as its JSON gives it)
   * exactly as {@link #parse} reads each document of a file: the object, or else one problem in
   * {@code problems} naming the field and what was expected.
   *
   * @return the object, or null when {@code doc} is not a config object
   */
  public static ConfigObject read(Object doc, String source, String defaultNamespace,
      List<ConfigStore.Problem> problems) {
    try {
      return object(doc, source, defaultNamespace);
    } catch (IllegalArgumentException e) {
      problems.add(new ConfigStore.Problem(source, e.getMessage(), identity(doc, defaultNamespace)));
      return null;
    }
  }

  /**
   * {@code file:LINE:COLUMN: not valid YAML: <the parser's whole message>}; the message keeps the
   * parser's context (which construct was open, where) and the snippet with its caret.
   */
  @SuppressWarnings("deprecation") // Jackson's wrapper is the only way to the marks without naming SnakeYAML
  static String yamlError(String file, Throwable e) {
    if (e instanceof StackOverflowError) {
      return file + ": not valid YAML: nested too deeply to read";
    }
    String where = "";
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    if (e instanceof MarkedYAMLException m
        && m.getProblemMark() != null) {
      // SnakeYAML's marks are 0-based; its text and Jackson's location say 1-based.
      where = ":" + (m.getProblemMark().getLine() + 1) + ":" + (m.getProblemMark().getColumn() + 1);
      message = m.getOriginalMessage();
    } else if (e instanceof JsonProcessingException j) {
      if (j.getLocation() != null && j.getLocation().getLineNr() > 0) {
        where = ":" + j.getLocation().getLineNr() + ":" + j.getLocation().getColumnNr();
      }
      message = j.getOriginalMessage();
    }
    message = message.replace("'reader'", "'" + file + "'").strip();
    return file + where + ": not valid YAML: " + message;
  }

  /** The FQN a bad document seems to define, from whatever of kind and name can be read; else "". */
  @SuppressWarnings("unchecked")
  private static String identity(Object doc, String defaultNamespace) {
    if (doc instanceof Map<?, ?> m && m.get("kind") instanceof String kind && m.get("metadata") instanceof Map<?, ?> md
        && md.get("name") instanceof String name && !kind.isEmpty() && !name.isEmpty()) {
      Object ns = md.get("namespace");
      return name + "." + kind + "." + (ns instanceof String s && !s.isEmpty() ? s : defaultNamespace);
    }
    return "";
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

}
