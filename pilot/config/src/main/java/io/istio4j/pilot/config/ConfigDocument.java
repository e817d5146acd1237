package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One object read from a file or from Kubernetes: what it is (as far as that could be read), the
 * config when it is valid, else why not.
 *
 * @param source where it is: {@code file:LINE} (the line its document starts on), or the
 *     Kubernetes object's path
 * @param apiVersion its {@code apiVersion}, or ""
 * @param kubernetesKind its {@code kind} as written, or ""
 * @param kind the Pilot kind, or null when the document is not one (then it is {@link
 *     Status#IGNORED}) or its kind could not be read
 * @param namespace its namespace (the default one when it names none), or ""
 * @param name its {@code metadata.name}, or ""
 * @param config the object, when {@link Status#VALID}
 * @param errors why it is {@link Status#INVALID}, or why it is {@link Status#IGNORED}
 * @param status whether it can be used
 */
public record ConfigDocument(
    String source,
    String apiVersion,
    String kubernetesKind,
    @Nullable ConfigKind kind,
    String namespace,
    String name,
    @Nullable Config config,
    List<FieldError> errors,
    Status status) {

  /** Whether a document holds a usable object. */
  public enum Status {
    /** Parsed and valid: {@link #config()} is set. */
    VALID,
    /** A Pilot object that does not parse or does not validate: {@link #errors()} say why. */
    INVALID,
    /** Not a Pilot config object (a Service, a Deployment, a Mixer rule...): left alone. */
    IGNORED
  }

  public ConfigDocument {
    requireNonNull(source, "source");
    requireNonNull(apiVersion, "apiVersion");
    requireNonNull(kubernetesKind, "kubernetesKind");
    requireNonNull(namespace, "namespace");
    requireNonNull(name, "name");
    errors = List.copyOf(requireNonNull(errors, "errors"));
    requireNonNull(status, "status");
    if ((status == Status.VALID) != (config != null)) {
      throw new IllegalArgumentException(source + ": a document has a config exactly when it is VALID");
    }
  }

  /**
   * True when the object's kind, namespace and name could be read, so that a store can keep the
   * last valid version of that object while this one is invalid.
   */
  public boolean hasIdentity() {
    return kind != null && !name.isEmpty() && !namespace.isEmpty();
  }

  /** Upstream's key {@code type/namespace/name}, when {@link #hasIdentity()}; else "". */
  public String key() {
    return hasIdentity() ? kind.type() + "/" + namespace + "/" + name : "";
  }

  /**
   * How messages name the object: {@code route-rule default/reviews-v2}, or as much of it as
   * could be read.
   */
  public String objectName() {
    String what = kind != null ? kind.type() : kubernetesKind.isEmpty() ? "object" : kubernetesKind;
    return name.isEmpty() ? what + " (no metadata.name)" : what + " " + namespace + "/" + name;
  }

  /**
   * One line per error: {@code file:LINE: route-rule default/reviews-v2: spec.route[1].weight: must
   * be in range 0..100}; for a valid object, its name.
   */
  public String describe() {
    if (errors.isEmpty()) {
      return source + ": " + objectName();
    }
    StringBuilder b = new StringBuilder();
    for (FieldError e : errors) {
      if (b.length() > 0) {
        b.append('\n');
      }
      b.append(source).append(": ").append(objectName()).append(": ").append(e);
    }
    return b.toString();
  }
}
