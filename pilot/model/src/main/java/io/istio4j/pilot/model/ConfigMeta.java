package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

import java.util.Map;

/**
 * What identifies a config object and describes it. The key is {@code type/namespace/name};
 * {@code domain} is the mesh's domain suffix and not part of the key.
 *
 * @param resourceVersion opaque; empty means never stored
 */
public record ConfigMeta(
    ConfigKind kind,
    String name,
    String namespace,
    String domain,
    Map<String, String> labels,
    Map<String, String> annotations,
    String resourceVersion) {
  public ConfigMeta {
    requireNonNull(kind, "kind");
    requireNonNull(name, "name");
    requireNonNull(namespace, "namespace");
    requireNonNull(domain, "domain");
    labels = Map.copyOf(requireNonNull(labels, "labels"));
    annotations = Map.copyOf(requireNonNull(annotations, "annotations"));
    requireNonNull(resourceVersion, "resourceVersion");
  }

  /** Metadata with only a kind, name and namespace. */
  public static ConfigMeta of(ConfigKind kind, String name, String namespace) {
    return new ConfigMeta(kind, name, namespace, "", Map.of(), Map.of(), "");
  }

  /** Upstream's key, {@code type/namespace/name}. */
  public String key() {
    return kind.type() + "/" + namespace + "/" + name;
  }

  /** The same metadata with another resource version. */
  public ConfigMeta withResourceVersion(String version) {
    return new ConfigMeta(kind, name, namespace, domain, labels, annotations, version);
  }
}
