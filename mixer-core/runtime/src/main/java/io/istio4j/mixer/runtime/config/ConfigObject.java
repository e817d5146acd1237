package io.istio4j.mixer.runtime.config;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * One config document, shaped like a Kubernetes object: {@code kind}, {@code metadata} (name,
 * namespace, labels) and {@code spec}, as YAML gave it.
 *
 * @param kind {@code rule}, {@code attributemanifest}, an adapter name (a handler) or a template
 *     name (an instance)
 * @param namespace the namespace
 * @param name the name
 * @param labels the labels
 * @param spec the spec: maps, lists, strings, numbers and booleans
 * @param source where it came from, for messages ({@code file.yaml#2}: the second document)
 */
public record ConfigObject(
    String kind, String namespace, String name, Map<String, String> labels, Map<String, Object> spec,
    String source) {

  /** Checks the parts. */
  public ConfigObject {
    requireNonNull(kind, "kind");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    labels = Map.copyOf(requireNonNull(labels, "labels"));
    requireNonNull(spec, "spec");
    requireNonNull(source, "source");
  }

  /** The fully qualified name, {@code <name>.<kind>.<namespace>}. */
  public String fqn() {
    return name + "." + kind + "." + namespace;
  }

  /** The file the object came from: its source without the {@code #N} document number. */
  public String file() {
    int hash = source.lastIndexOf('#');
    if (hash < 0 || hash == source.length() - 1) {
      return source;
    }
    for (int i = hash + 1; i < source.length(); i++) {
      if (!Character.isDigit(source.charAt(i))) {
        return source;
      }
    }
    return source.substring(0, hash);
  }

  /** True when {@code other} says the same: kind, namespace, name, labels and spec (not where it came from). */
  public boolean sameContent(ConfigObject other) {
    return kind.equals(other.kind) && namespace.equals(other.namespace) && name.equals(other.name)
        && labels.equals(other.labels) && spec.equals(other.spec);
  }
}
