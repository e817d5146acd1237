package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The injector's own settings, in upstream 0.2's shape (the {@code config} key of its ConfigMap):
 *
 * <pre>{@code
 * policy: enabled                 # or disabled: pods must opt in with sidecar.istio.io/inject: "true"
 * namespaces: [bookinfo]          # only these (default: all); or
 * excludeNamespaces: [legacy]     # all but these (not both)
 * params:
 *   initImage: docker.io/istio/proxy_init:0.2.12
 *   proxyImage: docker.io/istio/proxy:0.2.12
 *   imagePullPolicy: IfNotPresent # Always, IfNotPresent or Never
 *   verbosity: 2
 *   sidecarProxyUID: 1337
 *   version: 0.2.12               # written into sidecar.istio.io/status
 *   includeIPRanges: ""           # CIDRs whose outbound traffic goes through the proxy (default: all)
 *   debugMode: false              # a writable, privileged proxy container
 *   enableCoreDump: false
 * }</pre>
 *
 * <p>Pods in {@code kube-system}, {@code kube-public} and the injector's own namespace are never
 * injected ({@link #ignoredNamespaces}).
 *
 * @param policy the default for pods that do not say and namespaces without an {@code
 *     istio-injection} label
 * @param includeNamespaces the namespaces injected; empty for all
 * @param excludeNamespaces the namespaces never injected
 * @param ignoredNamespaces system namespaces never injected, whatever pods say
 * @param params what the template is filled with, besides the mesh config and the pod
 */
public record InjectorConfig(InjectionPolicy policy, List<String> includeNamespaces, List<String> excludeNamespaces,
    Set<String> ignoredNamespaces, Params params) {

  /** The default hub and tag: upstream 0.2's data plane (pilot-agent with Envoy, and proxy_init). */
  public static final String DEFAULT_HUB = "docker.io/istio";
  public static final String DEFAULT_TAG = "0.2.12";

  public InjectorConfig {
    requireNonNull(policy, "policy");
    includeNamespaces = List.copyOf(includeNamespaces);
    excludeNamespaces = List.copyOf(excludeNamespaces);
    ignoredNamespaces = Set.copyOf(ignoredNamespaces);
    requireNonNull(params, "params");
    if (!includeNamespaces.isEmpty() && !excludeNamespaces.isEmpty()) {
      throw new IllegalArgumentException("namespaces " + includeNamespaces + " and excludeNamespaces "
          + excludeNamespaces + " (expected: at most one of them)");
    }
  }

  /**
   * The template's parameters (upstream's {@code Params}).
   *
   * @param initImage the image of {@code istio-init}
   * @param proxyImage the image of {@code istio-proxy}
   * @param imagePullPolicy {@code Always}, {@code IfNotPresent} or {@code Never}
   * @param verbosity the proxy's {@code -v}; 0 leaves it out
   * @param sidecarProxyUID the uid the proxy runs as, whose traffic iptables does not redirect
   * @param version written into {@code sidecar.istio.io/status} as {@code injected-version-<version>}
   * @param includeIPRanges comma-separated CIDRs to redirect; empty redirects all outbound traffic
   * @param debugMode a privileged proxy with a writable root file system
   * @param enableCoreDump adds upstream's {@code enable-core-dump} init container
   */
  public record Params(String initImage, String proxyImage, String imagePullPolicy, int verbosity,
      long sidecarProxyUID, String version, String includeIPRanges, boolean debugMode, boolean enableCoreDump) {
    public Params {
      requireNonNull(initImage, "initImage");
      requireNonNull(proxyImage, "proxyImage");
      requireNonNull(imagePullPolicy, "imagePullPolicy");
      requireNonNull(version, "version");
      requireNonNull(includeIPRanges, "includeIPRanges");
      if (!Set.of("Always", "IfNotPresent", "Never").contains(imagePullPolicy)) {
        throw new IllegalArgumentException("params.imagePullPolicy: '" + imagePullPolicy
            + "' (expected: Always, IfNotPresent or Never)");
      }
      if (verbosity < 0) {
        throw new IllegalArgumentException("params.verbosity: " + verbosity + " (expected: >= 0)");
      }
      if (sidecarProxyUID <= 0) {
        throw new IllegalArgumentException("params.sidecarProxyUID: " + sidecarProxyUID + " (expected: > 0)");
      }
      for (String cidr : includeIPRanges.isEmpty() ? new String[0] : includeIPRanges.split(",")) {
        if (!cidr.strip().matches("[0-9a-fA-F:.]+/\\d{1,3}|\\*")) {
          throw new IllegalArgumentException("params.includeIPRanges: '" + cidr
              + "' (expected: comma-separated CIDRs such as 10.0.0.0/8, or *)");
        }
      }
    }

    /** Upstream's defaults: images from {@link #DEFAULT_HUB} at {@link #DEFAULT_TAG}, verbosity 2, uid 1337. */
    public static Params defaults() {
      return new Params(DEFAULT_HUB + "/proxy_init:" + DEFAULT_TAG, DEFAULT_HUB + "/proxy:" + DEFAULT_TAG,
          "IfNotPresent", 2, 1337, DEFAULT_TAG, "", false, false);
    }
  }

  /** Policy enabled, every namespace, upstream's parameters; {@code istio-system} is the injector's namespace. */
  public static InjectorConfig defaults() {
    return new InjectorConfig(InjectionPolicy.ENABLED, List.of(), List.of(), systemNamespaces("istio-system"),
        Params.defaults());
  }

  /** The namespaces upstream never injected: kube-system, kube-public and Istio's own. */
  public static Set<String> systemNamespaces(String istioNamespace) {
    return Set.of("kube-system", "kube-public", requireNonNull(istioNamespace, "istioNamespace"));
  }

  /** A copy with another set of never-injected namespaces. */
  public InjectorConfig withIgnoredNamespaces(Set<String> ignored) {
    return new InjectorConfig(policy, includeNamespaces, excludeNamespaces, ignored, params);
  }

  /** A copy with other parameters. */
  public InjectorConfig withParams(Params p) {
    return new InjectorConfig(policy, includeNamespaces, excludeNamespaces, ignoredNamespaces, p);
  }

  /** A copy with another policy. */
  public InjectorConfig withPolicy(InjectionPolicy p) {
    return new InjectorConfig(p, includeNamespaces, excludeNamespaces, ignoredNamespaces, params);
  }

  /**
   * The settings in {@code file} (YAML, upstream's field names) over {@link #defaults}; the
   * defaults when {@code file} is null.
   *
   * @throws IllegalArgumentException naming the file, the field and what was expected
   */
  public static InjectorConfig load(@Nullable Path file) {
    if (file == null) {
      return defaults();
    }
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--injectConfig " + file + ": no such file", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("--injectConfig " + file + ": cannot read it: " + e.getMessage(), e);
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--injectConfig " + file + ": " + e.getMessage(), e);
    }
  }

  /** The settings in {@code yaml}, over {@link #defaults}. */
  public static InjectorConfig parse(String yaml) {
    JsonNode tree;
    try {
      tree = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not YAML: " + e.getOriginalMessage(), e);
    }
    InjectorConfig d = defaults();
    if (tree == null || tree.isNull() || tree.isMissingNode()) {
      return d;
    }
    if (!tree.isObject()) {
      throw new IllegalArgumentException("expected a mapping, found " + type(tree));
    }
    only(tree, "", Set.of("policy", "namespaces", "excludeNamespaces", "params", "initializerName"));
    InjectionPolicy policy = d.policy();
    if (tree.hasNonNull("policy")) {
      policy = InjectionPolicy.parse(tree.get("policy").asText());
      if (policy == null || !tree.get("policy").isTextual()) {
        throw new IllegalArgumentException("policy: '" + tree.get("policy").asText()
            + "' (expected: enabled or disabled)");
      }
    }
    List<String> include = strings(tree, "namespaces");
    // Upstream wrote "" (v1.NamespaceAll) for every namespace.
    if (include.contains("")) {
      include = List.of();
    }
    List<String> exclude = strings(tree, "excludeNamespaces");
    if (exclude.contains("")) {
      throw new IllegalArgumentException("excludeNamespaces: \"\" (expected: namespace names; \"\" would be all)");
    }
    Params p = d.params();
    JsonNode params = tree.get("params");
    if (params != null && !params.isNull()) {
      if (!params.isObject()) {
        throw new IllegalArgumentException("params: expected a mapping, found " + type(params));
      }
      only(params, "params.", Set.of("initImage", "proxyImage", "imagePullPolicy", "verbosity", "sidecarProxyUID",
          "version", "includeIPRanges", "debugMode", "enableCoreDump"));
      p = new Params(text(params, "initImage", p.initImage()), text(params, "proxyImage", p.proxyImage()),
          text(params, "imagePullPolicy", p.imagePullPolicy()), (int) number(params, "verbosity", p.verbosity()),
          number(params, "sidecarProxyUID", p.sidecarProxyUID()), text(params, "version", p.version()),
          text(params, "includeIPRanges", p.includeIPRanges()), bool(params, "debugMode", p.debugMode()),
          bool(params, "enableCoreDump", p.enableCoreDump()));
    }
    return new InjectorConfig(policy, include, exclude, d.ignoredNamespaces(), p);
  }

  private static void only(JsonNode node, String prefix, Set<String> allowed) {
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!allowed.contains(e.getKey())) {
        throw new IllegalArgumentException("unknown field '" + prefix + e.getKey() + "' (expected one of: "
            + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
  }

  private static List<String> strings(JsonNode tree, String field) {
    JsonNode n = tree.get(field);
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw new IllegalArgumentException(field + ": expected a list of namespace names, found " + type(n));
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isTextual()) {
        throw new IllegalArgumentException(field + ": expected namespace names, found " + type(item));
      }
      out.add(item.asText());
    }
    return out;
  }

  private static String text(JsonNode n, String field, String def) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return def;
    }
    if (!v.isValueNode() || v.isBoolean()) {
      throw new IllegalArgumentException("params." + field + ": expected a string, found " + type(v));
    }
    return v.asText();
  }

  private static long number(JsonNode n, String field, long def) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return def;
    }
    if (!v.canConvertToLong() || !v.isIntegralNumber()) {
      throw new IllegalArgumentException("params." + field + ": expected a whole number, found " + type(v)
          + " '" + v.asText() + "'");
    }
    return v.asLong();
  }

  private static boolean bool(JsonNode n, String field, boolean def) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return def;
    }
    if (!v.isBoolean()) {
      throw new IllegalArgumentException("params." + field + ": expected true or false, found " + type(v));
    }
    return v.asBoolean();
  }

  private static String type(JsonNode n) {
    return n.getNodeType().name().toLowerCase(Locale.ROOT);
  }
}
