package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where the webhook learns a namespace's labels ({@code istio-injection}): an AdmissionReview for a
 * pod does not carry them.
 */
@FunctionalInterface
public interface NamespaceLabels {

  /** The namespace's labels, or null when they are not known (then the injector's policy holds). */
  @Nullable Map<String, String> labels(String namespace);

  /** Knows no namespace: the injector's policy holds everywhere. */
  static NamespaceLabels none() {
    return namespace -> null;
  }

  /** A fixed map from namespace to labels, such as {@code --namespacePolicy} flags give. */
  static NamespaceLabels of(Map<String, Map<String, String>> labels) {
    Map<String, Map<String, String>> copy = Map.copyOf(requireNonNull(labels, "labels"));
    return copy::get;
  }
}
