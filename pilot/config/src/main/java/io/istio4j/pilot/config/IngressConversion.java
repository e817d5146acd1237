package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.MatchCondition;
import io.istio4j.pilot.config.v1.MatchRequest;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import io.istio4j.pilot.model.TlsSecret;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A Kubernetes Ingress ({@code networking.k8s.io/v1}, or the {@code extensions/v1beta1} and {@code
 * networking.k8s.io/v1beta1} shapes 0.2's samples use) as IngressRules, the way upstream 0.2's ingress
 * config adapter converted it:
 *
 * <ul>
 *   <li>one IngressRule per rule path, named {@code <ingress>-<rule>-<path>} counting from 1, and
 *       {@code <ingress>-0-0} for the default backend; in the Ingress's namespace, with its labels
 *       and annotations;
 *   <li>{@code host} becomes an exact {@code authority} match (a {@code *.example.com} wildcard
 *       included);
 *   <li>paths: {@code Exact} an exact {@code uri}; {@code Prefix} a {@code uri} prefix matched per
 *       path element (annotation {@value #PATH_TYPE_ANNOTATION}: {@code Prefix}, so {@code /foo}
 *       matches {@code /foo} and {@code /foo/bar}, not {@code /foobar}); {@code
 *       ImplementationSpecific} (and no pathType, as in v1beta1) 0.2's rule: a path without regular
 *       expression characters is exact, {@code /foo/.*} is the prefix {@code /foo/}, any other
 *       regular expression is a regex; no path is the prefix {@code /};
 *   <li>the backend service by name, its port by number or by name;
 *   <li>TLS: {@code tls_secret} is {@code <secretName>.<namespace>} (0.2's form) of the {@code
 *       tls[]} entry listing the rule's host (an exact host first, then a {@code *.} wildcard
 *       covering it), else of an entry that lists no hosts. A rule with TLS is served on 443 only,
 *       as in 0.2.
 * </ul>
 *
 * <p>A rule that cannot be converted (no service, a resource backend, a bad host or path) is an
 * invalid document naming the field; the other rules of the Ingress still convert.
 */
public final class IngressConversion {
  /** Set on IngressRules made from a path of type Prefix or Exact: the Ingress's path type. */
  public static final String PATH_TYPE_ANNOTATION = "ingress.istio4j.io/path-type";
  /** The Kubernetes kind converted. */
  public static final String KIND = "Ingress";

  private static final Pattern HOST = Pattern.compile(
      "(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** A URL path (RFC 3986 pchar and '/'): what an Exact or Prefix path may hold. */
  private static final Pattern URL_PATH = Pattern.compile("/[A-Za-z0-9/\\-._~%!$&'()*+,;=:@]*");
  /** The characters Go's regexp.QuoteMeta escapes: 0.2's test for "is a regular expression". */
  private static final String REGEX_META = "\\.+*?()|[]{}^$";
  /** Not copied into every rule: kubectl's copy of the whole object. */
  private static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

  private IngressConversion() {}

  /** Whether an apiVersion/kind names an Ingress this converter reads. */
  public static boolean isIngress(String apiVersion, String kind) {
    return KIND.equals(kind) && (apiVersion.equals("networking.k8s.io/v1") || apiVersion.equals("networking.k8s.io/v1beta1")
        || apiVersion.equals("extensions/v1beta1") || apiVersion.isEmpty());
  }

  /**
   * Converts one Ingress.
   *
   * @param source where it is, for messages ({@code file:LINE} or {@code k8s:ingresses/ns/name})
   * @param ingress the object as JSON
   * @param defaultNamespace the namespace when the object names none
   * @param domain the domain suffix recorded in the rules' metadata
   * @return one document per rule path (and the default backend), valid or naming its problem
   */
  public static List<ConfigDocument> convert(String source, JsonNode ingress, String defaultNamespace, String domain) {
    requireNonNull(source, "source");
    requireNonNull(ingress, "ingress");
    String apiVersion = text(ingress.path("apiVersion"));
    JsonNode metadata = ingress.path("metadata");
    String name = text(metadata.path("name"));
    String namespace = text(metadata.path("namespace"));
    if (namespace.isEmpty()) {
      namespace = defaultNamespace;
    }
    List<ConfigDocument> out = new ArrayList<>();
    if (name.isEmpty()) {
      out.add(invalid(source, apiVersion, namespace, "", new FieldError("metadata.name", "required")));
      return out;
    }
    JsonNode spec = ingress.path("spec");
    if (!spec.isObject()) {
      out.add(invalid(source, apiVersion, namespace, name + "-0-0",
          new FieldError("spec", "expected a map with rules or defaultBackend, got " + SpecReader.describe(spec))));
      return out;
    }
    Map<String, String> labels = strings(metadata.path("labels"));
    Map<String, String> annotations = strings(metadata.path("annotations"));
    annotations.remove(LAST_APPLIED);
    String resourceVersion = text(metadata.path("resourceVersion"));
    Context c = new Context(source, apiVersion, namespace, domain, labels, annotations, resourceVersion, spec.path("tls"));

    JsonNode defaultBackend = spec.has("defaultBackend") ? spec.get("defaultBackend") : spec.path("backend");
    if (defaultBackend.isObject()) {
      out.add(c.rule(name + "-0-0", "spec.defaultBackend", "", "", "", defaultBackend));
    }
    JsonNode rules = spec.path("rules");
    for (int i = 0; i < rules.size(); i++) {
      JsonNode rule = rules.get(i);
      String host = text(rule.path("host"));
      JsonNode paths = rule.path("http").path("paths");
      for (int j = 0; j < paths.size(); j++) {
        JsonNode path = paths.get(j);
        String at = "spec.rules[" + i + "].http.paths[" + j + "]";
        out.add(c.rule(name + "-" + (i + 1) + "-" + (j + 1), at, host, text(path.path("path")),
            text(path.path("pathType")), path.path("backend")));
      }
    }
    return out;
  }

  /** What every rule of one Ingress shares. */
  private record Context(String source, String apiVersion, String namespace, String domain,
      Map<String, String> labels, Map<String, String> annotations, String resourceVersion, JsonNode tls) {

    ConfigDocument rule(String ruleName, String at, String host, String path, String pathType, JsonNode backend) {
      List<FieldError> errors = new ArrayList<>();
      IngressRule.Builder rule = IngressRule.newBuilder();
      MatchRequest.Builder request = MatchRequest.newBuilder();
      Map<String, String> meta = new LinkedHashMap<>(annotations);
      if (!host.isEmpty()) {
        if (host.length() > 253 || !HOST.matcher(host).matches()) {
          errors.add(new FieldError(at.replaceFirst("\\.http\\.paths\\[\\d+]$", "") + ".host", "'" + host
              + "' is not a host name (expected: a lower-case DNS name, optionally starting with '*.')"));
        }
        request.putHeaders("authority", StringMatch.newBuilder().setExact(host).build());
      }
      StringMatch uri = uri(at, path, pathType, errors);
      if (uri != null) {
        request.putHeaders("uri", uri);
        if (pathType.equals("Prefix") || pathType.equals("Exact")) {
          meta.put(PATH_TYPE_ANNOTATION, pathType);
        }
      }
      rule.setMatch(MatchCondition.newBuilder().setRequest(request));
      backend(rule, at + (at.equals("spec.defaultBackend") ? "" : ".backend"), backend, errors);
      String secret = secretFor(host);
      if (secret != null) {
        rule.setTlsSecret(TlsSecret.reference(namespace, secret));
      }
      ConfigMeta m = new ConfigMeta(ConfigKind.INGRESS_RULE, ruleName, namespace, domain, labels, meta, resourceVersion);
      if (errors.isEmpty()) {
        errors.addAll(ConfigValidator.validate(new Config(m, rule.build())));
      }
      if (!errors.isEmpty()) {
        return new ConfigDocument(source, apiVersion, KIND, ConfigKind.INGRESS_RULE, namespace, ruleName, null, errors,
            ConfigDocument.Status.INVALID);
      }
      return new ConfigDocument(source, apiVersion, KIND, ConfigKind.INGRESS_RULE, namespace, ruleName,
          new Config(m, rule.build()), List.of(), ConfigDocument.Status.VALID);
    }

    /**
     * The secret of the tls entry listing {@code host} (exact first, then a wildcard entry covering
     * it), else of the first entry without hosts; null when no entry applies.
     */
    @Nullable String secretFor(String host) {
      String wildcard = null;
      String anyHost = null;
      for (JsonNode t : tls) {
        String secret = text(t.path("secretName"));
        if (secret.isEmpty()) {
          continue;
        }
        JsonNode hosts = t.path("hosts");
        if (hosts.isEmpty()) {
          anyHost = anyHost == null ? secret : anyHost;
          continue;
        }
        for (JsonNode h : hosts) {
          String th = text(h);
          if (!host.isEmpty() && th.equals(host)) {
            return secret;
          }
          if (wildcard == null && th.startsWith("*.") && !host.isEmpty() && host.endsWith(th.substring(1))
              && host.indexOf('.') == host.length() - th.length() + 1) {
            wildcard = secret;
          }
        }
      }
      return wildcard != null ? wildcard : anyHost;
    }
  }

  /** The uri match of a path, or null when there is none (an error was recorded). */
  private static @Nullable StringMatch uri(String at, String path, String pathType, List<FieldError> errors) {
    if (!path.isEmpty() && !path.startsWith("/")) {
      errors.add(new FieldError(at + ".path", "'" + path + "' (expected: an absolute path starting with '/')"));
      return null;
    }
    if ((pathType.equals("Exact") || pathType.equals("Prefix")) && !path.isEmpty() && !URL_PATH.matcher(path).matches()) {
      errors.add(new FieldError(at + ".path", "'" + path + "' has characters a URL path cannot hold "
          + "(expected: '/', letters, digits and -._~%!$&'()*+,;=:@)"));
      return null;
    }
    for (int i = 0; i < path.length(); i++) {
      if (Character.isISOControl(path.charAt(i)) || Character.isWhitespace(path.charAt(i))) {
        errors.add(new FieldError(at + ".path", "'" + path.strip() + "' holds whitespace or a control character"));
        return null;
      }
    }
    switch (pathType) {
      case "Exact" -> {
        if (path.isEmpty()) {
          errors.add(new FieldError(at + ".path", "required for pathType Exact"));
          return null;
        }
        return StringMatch.newBuilder().setExact(path).build();
      }
      case "Prefix" -> {
        // Kubernetes: a trailing '/' is ignored; "/" (or nothing) matches every path.
        String p = path;
        while (p.endsWith("/")) {
          p = p.substring(0, p.length() - 1);
        }
        return StringMatch.newBuilder().setPrefix(p.isEmpty() ? "/" : p).build();
      }
      case "", "ImplementationSpecific" -> {
        if (path.isEmpty()) {
          return StringMatch.newBuilder().setPrefix("/").build();
        }
        if (isRegularExpression(path)) {
          String stem = path.endsWith(".*") ? path.substring(0, path.length() - 2) : null;
          if (stem != null && !isRegularExpression(stem)) {
            return StringMatch.newBuilder().setPrefix(stem).build();
          }
          return StringMatch.newBuilder().setRegex(path).build();
        }
        return StringMatch.newBuilder().setExact(path).build();
      }
      default -> {
        errors.add(new FieldError(at + ".pathType", "'" + pathType + "' (expected: Exact, Prefix or ImplementationSpecific)"));
        return null;
      }
    }
  }

  /** 0.2's isRegularExpression: Go's QuoteMeta would escape a character of it. */
  static boolean isRegularExpression(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (REGEX_META.indexOf(s.charAt(i)) >= 0) {
        return true;
      }
    }
    return false;
  }

  /** The destination and port of a v1 ({@code service: {name, port}}) or v1beta1 backend. */
  private static void backend(IngressRule.Builder rule, String at, JsonNode backend, List<FieldError> errors) {
    if (!backend.isObject()) {
      errors.add(new FieldError(at, "required: a backend with a service"));
      return;
    }
    if (backend.has("resource")) {
      errors.add(new FieldError(at + ".resource", "resource backends are not supported (expected: a service)"));
      return;
    }
    String service;
    JsonNode port;
    String portPath;
    if (backend.has("service")) {
      service = text(backend.path("service").path("name"));
      JsonNode p = backend.path("service").path("port");
      port = p.has("number") ? p.get("number") : p.path("name");
      portPath = at + ".service.port";
      if (service.isEmpty()) {
        errors.add(new FieldError(at + ".service.name", "required"));
        return;
      }
    } else {
      service = text(backend.path("serviceName"));
      port = backend.path("servicePort");
      portPath = at + ".servicePort";
      if (service.isEmpty()) {
        errors.add(new FieldError(at + ".service.name", "required"));
        return;
      }
    }
    rule.setDestination(IstioService.newBuilder().setName(service));
    if (port.isIntegralNumber()) {
      int n = port.asInt();
      if (n < 1 || n > 65535) {
        errors.add(new FieldError(portPath, n + " (expected: 1-65535)"));
      }
      rule.setDestinationPort(n);
    } else if (port.isTextual() && !port.asText().isEmpty()) {
      rule.setDestinationPortName(port.asText());
    }
    // No port: the service's only port, as the translation decides.
  }

  private static ConfigDocument invalid(String source, String apiVersion, String namespace, String name, FieldError e) {
    return new ConfigDocument(source, apiVersion, KIND, ConfigKind.INGRESS_RULE, namespace, name, null, List.of(e),
        ConfigDocument.Status.INVALID);
  }

  private static String text(JsonNode n) {
    return n.isTextual() ? n.asText() : "";
  }

  private static Map<String, String> strings(JsonNode n) {
    Map<String, String> out = new LinkedHashMap<>();
    if (n.isObject()) {
      for (Map.Entry<String, JsonNode> e : n.properties()) {
        if (e.getValue().isTextual()) {
          out.put(e.getKey(), e.getValue().asText());
        }
      }
    }
    return out;
  }
}
