package io.istio4j.mixer.server.kubernetes;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Descriptors.Descriptor;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.istio4j.adapter.AdapterInfo;
import io.istio4j.adapter.template.Template;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One {@code config.istio.io/v1alpha2} kind a Mixer build reads: {@code rule}, {@code
 * attributemanifest}, one per adapter (its handlers) and one per template (its instances), named
 * and pluralised as upstream's {@code mixs crd all} did.
 *
 * <pre>{@code
 * List<MixerKind> kinds = MixerKind.of(templates, adapters);
 * MixerKind prometheus = kinds.stream().filter(k -> k.name().equals("prometheus")).findFirst().orElseThrow();
 * prometheus.plural(); // "prometheuses"
 * }</pre>
 *
 * @param name the kind, as config objects name it ({@code rule}, {@code prometheus}, {@code metric})
 * @param role what its objects are
 * @param spec the message its spec is read into, or null for rules and manifests (their shapes are
 *     fixed: see {@link MixerCrds})
 */
public record MixerKind(String name, Role role, @Nullable Descriptor spec) {

  /** The API group of every Mixer kind. */
  public static final String GROUP = "config.istio.io";
  /** The API version of every Mixer kind. */
  public static final String VERSION = "v1alpha2";

  /** What a kind's objects are. */
  public enum Role {
    /** {@code rule} and {@code attributemanifest} (CRD label {@code istio: core}). */
    CORE("core"),
    /** Handlers of one adapter (label {@code istio: mixer-adapter}). */
    ADAPTER("mixer-adapter"),
    /** Instances of one template (label {@code istio: mixer-instance}). */
    TEMPLATE("mixer-instance");

    private final String label;

    Role(String label) {
      this.label = label;
    }

    /** The value of the CRD's {@code istio} label, as upstream set it. */
    public String label() {
      return label;
    }
  }

  /** Checks the parts. */
  public MixerKind {
    requireNonNull(name, "name");
    requireNonNull(role, "role");
  }

  /** The kinds of a build: rules, attribute manifests, then adapters and templates by name. */
  public static List<MixerKind> of(Templates templates, Adapters adapters) {
    List<MixerKind> kinds = new ArrayList<>();
    kinds.add(new MixerKind("rule", Role.CORE, null));
    kinds.add(new MixerKind("attributemanifest", Role.CORE, null));
    for (AdapterInfo a : adapters.all()) {
      kinds.add(new MixerKind(a.name(), Role.ADAPTER, a.defaultConfig().getDescriptorForType()));
    }
    for (Template t : templates.all()) {
      kinds.add(new MixerKind(t.name(), Role.TEMPLATE, t.paramDescriptor()));
    }
    return List.copyOf(kinds);
  }

  /**
   * Upstream's plural: {@code es} after {@code s} or {@code x}, a {@code y} after a consonant
   * becomes {@code ies}, else {@code s} ({@code prometheuses}, {@code listentries}, {@code rules},
   * {@code apikeys}: Istio's later install named that CRD so, not {@code apikeies}).
   */
  public static String plural(String kind) {
    if (kind.endsWith("s") || kind.endsWith("x")) {
      return kind + "es";
    }
    if (kind.endsWith("y") && (kind.length() < 2 || "aeiou".indexOf(kind.charAt(kind.length() - 2)) < 0)) {
      return kind.substring(0, kind.length() - 1) + "ies";
    }
    return kind + "s";
  }

  /** This kind's plural, the resource name in API paths. */
  public String plural() {
    return plural(name);
  }

  /** The CRD's name, {@code <plural>.config.istio.io}. */
  public String crdName() {
    return plural() + "." + GROUP;
  }

  /** What fabric8 needs to read and watch this kind's objects without a Java class for them. */
  public ResourceDefinitionContext context() {
    return new ResourceDefinitionContext.Builder()
        .withGroup(GROUP)
        .withVersion(VERSION)
        .withKind(name)
        .withPlural(plural())
        .withNamespaced(true)
        .build();
  }
}
