package io.istio4j.pilot.injector;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.config.v1.ProxyConfig;
import io.istio4j.pilot.discovery.MeshSettings;
import io.istio4j.pilot.injector.SidecarTemplate.Sidecar;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a pod gets a sidecar and builds it, as upstream 0.2's injector did:
 *
 * <ol>
 *   <li>never in {@code kube-system}, {@code kube-public} or the injector's own namespace, nor in an
 *       excluded namespace, nor outside the included ones (when the config names some);
 *   <li>the namespace's policy is its {@code istio-injection} label ({@code enabled}/{@code
 *       disabled}) when it has one, else the config's {@code policy};
 *   <li>a pod that says {@code sidecar.istio.io/inject} ({@code true}, {@code yes}, {@code on},
 *       {@code y}: inject; anything else: do not) overrides its namespace's policy;
 *   <li>a pod already injected (it has {@code sidecar.istio.io/status}, or a container named like
 *       one the template adds) is left alone, so injecting twice changes nothing;
 *   <li>a pod on the host network is left alone: its iptables rules would change the node's
 *       routing, not the pod's.
 * </ol>
 *
 * <p>The sidecar comes from the {@link SidecarTemplate} filled with the config's parameters, the
 * mesh config's proxy settings and the pod's service account and {@code app} label.
 */
public final class SidecarInjector {

  /** The pod's own opt-in or opt-out. */
  public static final String INJECT_ANNOTATION = "sidecar.istio.io/inject";
  /** Set on injected pods (and, offline, on their workloads): {@code injected-version-<version>}. */
  public static final String STATUS_ANNOTATION = "sidecar.istio.io/status";
  /** A namespace's policy: {@code enabled} or {@code disabled}. */
  public static final String NAMESPACE_LABEL = "istio-injection";

  /** Kubernetes' label value syntax: the {@code app} label becomes a command-line argument. */
  private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");
  /** Kubernetes' DNS subdomain syntax, for service account names. */
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");

  /** Whether a pod is injected, and why not. */
  public record Decision(boolean inject, String reason) {
    public Decision {
      requireNonNull(reason, "reason");
    }

    static Decision yes(String reason) {
      return new Decision(true, reason);
    }

    static Decision no(String reason) {
      return new Decision(false, reason);
    }
  }

  /**
   * What injection adds: the rendered sidecar and the annotations.
   *
   * @param sidecar the containers, init containers and volumes appended to the pod's
   * @param annotations the annotations set on the pod (and, offline, on its workload)
   */
  public record Injection(Sidecar sidecar, Map<String, String> annotations) {
    public Injection {
      requireNonNull(sidecar, "sidecar");
      annotations = Map.copyOf(annotations);
    }
  }

  private final InjectorConfig config;
  private final MeshConfig mesh;
  private final SidecarTemplate template;
  private final Set<String> sidecarNames;
  /**
   * Rendered sidecars by the only values that come from the pod: rendering parses YAML (about 0.1
   * ms), and a deployment's pods all render the same. Bounded by emptying it when full; the
   * sidecars in it are never changed (callers copy what they add to a pod).
   */
  private final Map<PodValues, Sidecar> rendered = new ConcurrentHashMap<>();

  private static final int MAX_RENDERED = 1024;

  private record PodValues(String serviceCluster, String serviceAccount, String namespace) {}

  /** An injector for this config, mesh config and template. */
  public SidecarInjector(InjectorConfig config, MeshConfig mesh, SidecarTemplate template) {
    this.config = requireNonNull(config, "config");
    this.mesh = requireNonNull(mesh, "mesh");
    this.template = requireNonNull(template, "template");
    Sidecar sample = template.render(sampleValues());
    Set<String> names = new HashSet<>();
    sample.initContainers().forEach(c -> names.add(c.path("name").asText()));
    sample.containers().forEach(c -> names.add(c.path("name").asText()));
    this.sidecarNames = Set.copyOf(names);
    // Fail now, not on the first pod, when the mesh config leaves the template without a value.
    template.render(values(config, mesh, null, ""));
  }

  /** The injector's settings. */
  public InjectorConfig config() {
    return config;
  }

  /**
   * Whether the pod gets a sidecar.
   *
   * @param namespace the pod's namespace
   * @param namespaceLabels the namespace's labels, or null when unknown (then the config's policy holds)
   * @param workloadAnnotations the annotations of the workload that holds the pod template (offline);
   *     the pod's own win
   * @param podMetadata the pod's (or pod template's) metadata; may be missing
   * @param podSpec the pod's spec
   */
  public Decision decide(String namespace, @Nullable Map<String, String> namespaceLabels,
      Map<String, String> workloadAnnotations, JsonNode podMetadata, JsonNode podSpec) {
    requireNonNull(namespace, "namespace");
    requireNonNull(workloadAnnotations, "workloadAnnotations");
    if (config.ignoredNamespaces().contains(namespace)) {
      return Decision.no("namespace " + namespace + " is a system namespace");
    }
    if (config.excludeNamespaces().contains(namespace)) {
      return Decision.no("namespace " + namespace + " is excluded (excludeNamespaces)");
    }
    if (!config.includeNamespaces().isEmpty() && !config.includeNamespaces().contains(namespace)) {
      return Decision.no("namespace " + namespace + " is not included (namespaces " + config.includeNamespaces() + ")");
    }
    InjectionPolicy policy = config.policy();
    String policySource = "policy";
    if (namespaceLabels != null && namespaceLabels.containsKey(NAMESPACE_LABEL)) {
      InjectionPolicy labelled = InjectionPolicy.parse(namespaceLabels.get(NAMESPACE_LABEL));
      if (labelled != null) {
        policy = labelled;
        policySource = "namespace label " + NAMESPACE_LABEL;
      }
    }
    Map<String, String> podAnnotations = strings(podMetadata.path("annotations"));
    String says = podAnnotations.containsKey(INJECT_ANNOTATION) ? podAnnotations.get(INJECT_ANNOTATION)
        : workloadAnnotations.get(INJECT_ANNOTATION);
    boolean required;
    String why;
    if (says != null) {
      required = switch (says.strip().toLowerCase(Locale.ROOT)) {
        case "y", "yes", "true", "on" -> true;
        default -> false;
      };
      why = INJECT_ANNOTATION + ": \"" + says + "\"";
    } else {
      required = policy == InjectionPolicy.ENABLED;
      why = policySource + " " + policy.label();
    }
    if (!required) {
      return Decision.no(why);
    }
    if (podAnnotations.containsKey(STATUS_ANNOTATION)) {
      return Decision.no("already injected (" + STATUS_ANNOTATION + ": " + podAnnotations.get(STATUS_ANNOTATION) + ")");
    }
    for (String list : new String[] {"containers", "initContainers"}) {
      for (JsonNode c : podSpec.path(list)) {
        if (sidecarNames.contains(c.path("name").asText())) {
          return Decision.no("already injected (" + list + " has " + c.path("name").asText() + ")");
        }
      }
    }
    if (podSpec.path("hostNetwork").asBoolean(false)) {
      return Decision.no("hostNetwork: the init container's iptables rules would change the node's routing");
    }
    return Decision.yes(why);
  }

  /**
   * The sidecar for this pod.
   *
   * @param namespace the pod's namespace (a template value)
   * @throws IllegalArgumentException when the pod's service account or {@code app} label is not a
   *     valid Kubernetes name (it would become part of the proxy's arguments)
   */
  public Injection injection(String namespace, JsonNode podMetadata, JsonNode podSpec) {
    String sa = podSpec.path("serviceAccountName").asText("");
    String saField = "spec.serviceAccountName";
    if (sa.isEmpty()) {
      sa = podSpec.path("serviceAccount").asText(""); // the deprecated alias, still honoured by the API server
      saField = "spec.serviceAccount";
    }
    if (sa.isEmpty()) {
      sa = "default";
    } else if (!DNS_SUBDOMAIN.matcher(sa).matches()) {
      throw new IllegalArgumentException(saField + ": '" + sa + "' (expected: a service account name, a DNS subdomain)");
    }
    JsonNode app = podMetadata.path("labels").path("app");
    String serviceCluster = null;
    if (app.isTextual()) {
      if (!LABEL_VALUE.matcher(app.asText()).matches()) {
        throw new IllegalArgumentException("metadata.labels.app: '" + app.asText()
            + "' (expected: a label value: letters, digits, '-', '_', '.', at most 63)");
      }
      if (!app.asText().isEmpty()) {
        serviceCluster = app.asText();
      }
    }
    String account = sa;
    PodValues key = new PodValues(serviceCluster == null ? "" : serviceCluster, account, namespace);
    Sidecar sidecar = rendered.get(key);
    if (sidecar == null) {
      Map<String, Object> values = new HashMap<>(values(config, mesh, serviceCluster, namespace));
      values.put("serviceAccount", account);
      values.put("certSecretName", "istio." + account);
      sidecar = template.render(values);
      if (rendered.size() >= MAX_RENDERED) {
        rendered.clear();
      }
      rendered.put(key, sidecar);
    }
    return new Injection(sidecar, Map.of(STATUS_ANNOTATION, "injected-version-" + config.params().version()));
  }

  /** Every template value, from the config's parameters and the mesh config. */
  private static Map<String, Object> values(InjectorConfig config, MeshConfig mesh, @Nullable String serviceCluster,
      String namespace) {
    InjectorConfig.Params p = config.params();
    ProxyConfig proxy = mesh.getDefaultConfig();
    Map<String, Object> v = new HashMap<>();
    v.put("initImage", p.initImage());
    v.put("proxyImage", p.proxyImage());
    v.put("imagePullPolicy", p.imagePullPolicy());
    v.put("verbosity", p.verbosity());
    v.put("sidecarProxyUID", p.sidecarProxyUID());
    v.put("version", p.version());
    v.put("includeIPRanges", p.includeIPRanges());
    v.put("debugMode", p.debugMode());
    v.put("readOnlyRootFilesystem", !p.debugMode());
    v.put("enableCoreDump", p.enableCoreDump());
    v.put("proxyListenPort", mesh.getProxyListenPort());
    v.put("configPath", proxy.getConfigPath());
    v.put("binaryPath", proxy.getBinaryPath());
    v.put("serviceCluster", serviceCluster != null ? serviceCluster : proxy.getServiceCluster());
    v.put("drainDuration", goDuration(proxy.getDrainDuration()));
    v.put("parentShutdownDuration", goDuration(proxy.getParentShutdownDuration()));
    v.put("discoveryAddress", proxy.getDiscoveryAddress());
    v.put("discoveryRefreshDelay", goDuration(proxy.getDiscoveryRefreshDelay()));
    v.put("zipkinAddress", proxy.getZipkinAddress());
    v.put("connectTimeout", goDuration(proxy.getConnectTimeout()));
    v.put("statsdUdpAddress", proxy.getStatsdUdpAddress());
    v.put("proxyAdminPort", proxy.getProxyAdminPort());
    v.put("mixerAddress", mesh.getMixerAddress());
    v.put("authPolicy", mesh.getAuthPolicy().name());
    v.put("serviceAccount", "default");
    v.put("certSecretName", "istio.default");
    v.put("namespace", namespace);
    return v;
  }

  /** Values for checking a template when it is loaded: upstream's defaults. */
  static Map<String, Object> sampleValues() {
    return values(InjectorConfig.defaults(), MeshSettings.defaultMeshConfig(), "sample", "default");
  }

  /** A protobuf duration as Go's {@code time.Duration.String()} writes it, as upstream's flags had it: 2s, 1m0s, 500ms. */
  static String goDuration(Duration d) {
    long nanos = d.getSeconds() * 1_000_000_000L + d.getNanos();
    if (nanos == 0) {
      return "0s";
    }
    StringBuilder b = new StringBuilder();
    if (nanos < 0) {
      b.append('-');
      nanos = -nanos;
    }
    if (nanos < 1_000_000_000L) {
      if (nanos < 1_000L) {
        return b.append(nanos).append("ns").toString();
      }
      if (nanos < 1_000_000L) {
        return b.append(decimal(nanos, 1_000L)).append("µs").toString();
      }
      return b.append(decimal(nanos, 1_000_000L)).append("ms").toString();
    }
    long hours = nanos / 3_600_000_000_000L;
    long rest = nanos % 3_600_000_000_000L;
    long minutes = rest / 60_000_000_000L;
    rest %= 60_000_000_000L;
    if (hours > 0) {
      b.append(hours).append('h');
    }
    if (hours > 0 || minutes > 0) {
      b.append(minutes).append('m');
    }
    return b.append(decimal(rest, 1_000_000_000L)).append('s').toString();
  }

  private static String decimal(long value, long unit) {
    long whole = value / unit;
    long frac = value % unit;
    if (frac == 0) {
      return Long.toString(whole);
    }
    String digits = Long.toString(unit + frac).substring(1).replaceAll("0+$", "");
    return whole + "." + digits;
  }

  static Map<String, String> strings(JsonNode map) {
    if (!(map instanceof ObjectNode o)) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    for (Map.Entry<String, JsonNode> e : o.properties()) {
      if (e.getValue().isValueNode() && !e.getValue().isNull()) {
        out.put(e.getKey(), e.getValue().asText());
      }
    }
    return out;
  }
}
