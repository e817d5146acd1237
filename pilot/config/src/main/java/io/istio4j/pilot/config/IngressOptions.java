package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.istio4j.pilot.config.v1.MeshConfig;

/**
 * Which Kubernetes Ingress objects Pilot turns into IngressRules: MeshConfig's {@code
 * ingressControllerMode} and {@code ingressClass} (0.2's defaults: STRICT, {@code istio}).
 *
 * <p>An Ingress's class is its {@code kubernetes.io/ingress.class} annotation (0.2's way, and it wins
 * when both are set), else its {@code spec.ingressClassName} (networking.k8s.io/v1's way). STRICT
 * takes only Ingresses of the class; DEFAULT also those without any class; OFF none.
 *
 * <pre>{@code
 * IngressOptions o = IngressOptions.of(meshConfig);
 * boolean ours = o.accepts(ingressAsJson);
 * }</pre>
 *
 * @param mode upstream's ingress controller mode
 * @param ingressClass the class this Pilot serves
 */
public record IngressOptions(MeshConfig.IngressControllerMode mode, String ingressClass) {
  /** The annotation 0.2 read the class from. */
  public static final String CLASS_ANNOTATION = "kubernetes.io/ingress.class";

  public IngressOptions {
    requireNonNull(mode, "mode");
    requireNonNull(ingressClass, "ingressClass");
  }

  /** 0.2's defaults: STRICT, class {@code istio}. */
  public static IngressOptions defaults() {
    return new IngressOptions(MeshConfig.IngressControllerMode.STRICT, "istio");
  }

  /** Ingresses are not read at all. */
  public static IngressOptions off() {
    return new IngressOptions(MeshConfig.IngressControllerMode.OFF, "istio");
  }

  /** The mesh's settings; an empty class means {@code istio}. */
  public static IngressOptions of(MeshConfig mesh) {
    return new IngressOptions(mesh.getIngressControllerMode(),
        mesh.getIngressClass().isEmpty() ? "istio" : mesh.getIngressClass());
  }

  /** Whether Ingresses are read at all. */
  public boolean enabled() {
    return mode == MeshConfig.IngressControllerMode.STRICT || mode == MeshConfig.IngressControllerMode.DEFAULT;
  }

  /** The class an Ingress (as JSON) names, or null when it names none. */
  static String classOf(JsonNode ingress) {
    JsonNode annotation = ingress.path("metadata").path("annotations").path(CLASS_ANNOTATION);
    if (annotation.isTextual()) {
      return annotation.asText();
    }
    JsonNode name = ingress.path("spec").path("ingressClassName");
    return name.isTextual() ? name.asText() : null;
  }

  /** Upstream's {@code shouldProcessIngress}, with {@code spec.ingressClassName} as a class too. */
  public boolean accepts(JsonNode ingress) {
    String cls = classOf(requireNonNull(ingress, "ingress"));
    return switch (mode) {
      case STRICT -> ingressClass.equals(cls);
      case DEFAULT -> cls == null || ingressClass.equals(cls);
      default -> false;
    };
  }
}
