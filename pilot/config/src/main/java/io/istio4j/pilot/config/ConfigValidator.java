package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.re2j.PatternSyntaxException;
import io.istio4j.pilot.config.v1.CircuitBreaker;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.HTTPFaultInjection;
import io.istio4j.pilot.config.v1.HTTPRetry;
import io.istio4j.pilot.config.v1.HTTPTimeout;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.L4FaultInjection;
import io.istio4j.pilot.config.v1.L4MatchAttributes;
import io.istio4j.pilot.config.v1.LoadBalancing;
import io.istio4j.pilot.config.v1.MatchCondition;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.config.v1.StringMatch;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Istio 0.2's validation of config objects (pilot {@code model/validation.go} at 0.2.12): the same
 * rules, each error reported with the path of the field it is about ({@code spec.route[1].weight}).
 * A few checks are added where 0.2 let through what the proxies would later refuse; each is
 * marked "Not in 0.2" below and listed in docs/pilot-config.md.
 *
 * <pre>{@code
 * List<FieldError> errors = ConfigValidator.validate(config);
 * if (!errors.isEmpty()) { ... ConfigValidator.describe(config.meta(), errors) ... }
 * }</pre>
 */
public final class ConfigValidator {
  private static final int DNS1123_LABEL_MAX = 63;
  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** 0.2's label key and value syntax (looser than Kubernetes'; kept as 0.2 had it). */
  private static final Pattern LABEL = Pattern.compile("[-A-Za-z0-9_./]*");
  private static final Set<String> EGRESS_PROTOCOLS = Set.of("HTTP", "HTTPS", "HTTP2", "GRPC");
  private static final long NANOS_PER_MILLI = 1_000_000L;

  private ConfigValidator() {}

  /** The problems of a config object, metadata and spec; empty when it is valid. */
  public static List<FieldError> validate(Config config) {
    requireNonNull(config, "config");
    List<FieldError> errors = new ArrayList<>(validateMeta(config.meta()));
    errors.addAll(validate(config.meta().kind(), config.spec()));
    return errors;
  }

  /**
   * The problems of a name and namespace. Not in 0.2 (it had a TODO for it): names are Kubernetes
   * object names (DNS-1123 subdomains), namespaces DNS-1123 labels, whatever store they come from,
   * so that the key {@code type/namespace/name} is unambiguous.
   */
  public static List<FieldError> validateMeta(ConfigMeta meta) {
    requireNonNull(meta, "meta");
    List<FieldError> errors = new ArrayList<>();
    if (meta.name().isEmpty()) {
      errors.add(new FieldError("metadata.name", "required"));
    } else if (meta.name().length() > 253 || !DNS1123_SUBDOMAIN.matcher(meta.name()).matches()) {
      errors.add(new FieldError("metadata.name", "'" + meta.name()
          + "' is not a valid name (expected: lower-case letters, digits, '-' and '.', at most 253)"));
    }
    if (meta.namespace().isEmpty()) {
      errors.add(new FieldError("metadata.namespace", "required"));
    } else if (!isDns1123Label(meta.namespace())) {
      errors.add(new FieldError("metadata.namespace", "'" + meta.namespace()
          + "' is not a valid namespace (expected: a DNS-1123 label, lower-case letters, digits and '-', at most 63)"));
    }
    return errors;
  }

  /** The problems of a spec of {@code kind}; paths start with {@code spec}. */
  public static List<FieldError> validate(ConfigKind kind, Message spec) {
    requireNonNull(kind, "kind");
    requireNonNull(spec, "spec");
    Errors e = new Errors();
    switch (kind) {
      case ROUTE_RULE -> routeRule(e, (RouteRule) spec);
      case DESTINATION_POLICY -> destinationPolicy(e, (DestinationPolicy) spec);
      case EGRESS_RULE -> egressRule(e, (EgressRule) spec);
      case INGRESS_RULE -> ingressRule(e, (IngressRule) spec);
    }
    return e.list;
  }

  /**
   * One line per error: {@code route-rule default/reviews-v2: spec.route[1].weight: must be in range
   * 0..100}.
   */
  public static String describe(ConfigMeta meta, List<FieldError> errors) {
    StringBuilder b = new StringBuilder();
    for (FieldError error : errors) {
      if (b.length() > 0) {
        b.append('\n');
      }
      b.append(objectName(meta)).append(": ").append(error);
    }
    return b.toString();
  }

  /** {@code route-rule default/reviews-v2}: how messages name an object. */
  public static String objectName(ConfigMeta meta) {
    return meta.kind().type() + " " + meta.namespace() + "/" + meta.name();
  }

  /** Collects errors. */
  private static final class Errors {
    final List<FieldError> list = new ArrayList<>();

    void add(String field, String message) {
      list.add(new FieldError(field, message));
    }
  }

  // ---- RouteRule ----

  private static void routeRule(Errors e, RouteRule rule) {
    if (!rule.hasDestination()) {
      e.add("spec.destination", "required: a route rule must have a destination service");
    } else {
      istioService(e, "spec.destination", rule.getDestination());
      if (rule.getDestination().getLabelsCount() > 0) {
        e.add("spec.destination.labels", "must be empty in a route rule (select versions in route[].labels)");
      }
    }
    // Any int32 is a valid precedence.
    if (rule.hasMatch()) {
      matchCondition(e, "spec.match", rule.getMatch());
    }
    if (rule.hasRewrite() && rule.getRewrite().getUri().isEmpty() && rule.getRewrite().getAuthority().isEmpty()) {
      e.add("spec.rewrite", "must set uri, authority or both");
    }
    if (rule.hasRedirect()) {
      if (rule.getRouteCount() > 0) {
        e.add("spec.redirect", "a rule cannot have both route and redirect");
      }
      if (rule.hasHttpFault()) {
        e.add("spec.redirect", "a rule cannot have both httpFault and redirect");
      }
      if (rule.getRedirect().getUri().isEmpty() && rule.getRedirect().getAuthority().isEmpty()) {
        e.add("spec.redirect", "must set uri, authority or both");
      }
      if (rule.getWebsocketUpgrade()) {
        e.add("spec.websocketUpgrade", "WebSocket upgrade is not allowed on redirect rules");
      }
      if (rule.hasRewrite()) {
        e.add("spec.rewrite", "a rule cannot have both rewrite and redirect");
      }
    }
    for (int i = 0; i < rule.getRouteCount(); i++) {
      destinationWeight(e, "spec.route[" + i + "]", rule.getRoute(i));
    }
    if (rule.getRouteCount() > 0) {
      weights(e, rule.getRouteList());
    }
    if (rule.hasHttpReqTimeout()) {
      httpTimeout(e, "spec.httpReqTimeout", rule.getHttpReqTimeout());
    }
    if (rule.hasHttpReqRetries()) {
      httpRetries(e, "spec.httpReqRetries", rule.getHttpReqRetries());
    }
    if (rule.hasHttpFault()) {
      httpFault(e, "spec.httpFault", rule.getHttpFault());
    }
    if (rule.hasL4Fault()) {
      l4Fault(e, "spec.l4Fault", rule.getL4Fault());
      e.add("spec.l4Fault", "L4 faults are not implemented");
    }
  }

  private static void destinationWeight(Errors e, String path, DestinationWeight dw) {
    // Not in 0.2 (a TODO there): the optional destination is checked like every other reference.
    if (dw.hasDestination()) {
      istioService(e, path + ".destination", dw.getDestination());
    }
    labels(e, path + ".labels", dw.getLabelsMap());
    if (dw.getWeight() < 0 || dw.getWeight() > 100) {
      e.add(path + ".weight", dw.getWeight() + " must be in range 0..100");
    }
  }

  private static void weights(Errors e, List<DestinationWeight> route) {
    long sum = 0;
    for (DestinationWeight dw : route) {
      sum += dw.getWeight();
    }
    // A single destination with no weight gets all the traffic.
    if (route.size() == 1 && sum == 0) {
      return;
    }
    if (sum != 100) {
      e.add("spec.route", "route weights total " + sum + " (must total 100)");
    }
  }

  private static void httpTimeout(Errors e, String path, HTTPTimeout timeout) {
    if (timeout.hasSimpleTimeout()) {
      duration(e, path + ".simpleTimeout.timeout", timeout.getSimpleTimeout().hasTimeout()
          ? timeout.getSimpleTimeout().getTimeout() : null);
    }
  }

  private static void httpRetries(Errors e, String path, HTTPRetry retry) {
    if (retry.hasSimpleRetry()) {
      HTTPRetry.SimpleRetryPolicy simple = retry.getSimpleRetry();
      if (simple.getAttempts() < 0) {
        e.add(path + ".simpleRetry.attempts", simple.getAttempts() + " must be in range [0..]");
      }
      duration(e, path + ".simpleRetry.perTryTimeout", simple.hasPerTryTimeout() ? simple.getPerTryTimeout() : null);
    }
  }

  private static void httpFault(Errors e, String path, HTTPFaultInjection fault) {
    if (fault.hasDelay()) {
      HTTPFaultInjection.Delay delay = fault.getDelay();
      percent(e, path + ".delay.percent", delay.getPercent());
      // 0.2 required a fixed delay even when an exponential one was given (and then refused that).
      duration(e, path + ".delay.fixedDelay", delay.hasFixedDelay() ? delay.getFixedDelay() : null);
      if (delay.hasExponentialDelay()) {
        duration(e, path + ".delay.exponentialDelay", delay.getExponentialDelay());
        e.add(path + ".delay.exponentialDelay", "Istio does not support exponentialDelay yet");
      }
    }
    if (fault.hasAbort()) {
      HTTPFaultInjection.Abort abort = fault.getAbort();
      percent(e, path + ".abort.percent", abort.getPercent());
      switch (abort.getErrorTypeCase()) {
        case GRPC_STATUS -> e.add(path + ".abort.grpcStatus", "Istio does not support gRPC fault injection yet");
        case HTTP_STATUS -> {
          // 0.2 allowed 0..600; Envoy refuses a status outside 200..599, so that is what is allowed here.
          int status = abort.getHttpStatus();
          if (status < 200 || status > 599) {
            e.add(path + ".abort.httpStatus", "invalid abort http status " + status + " (expected: 200..599)");
          }
        }
        default -> { } // http2Error: not validated in 0.2; none: 0.2 let it through
      }
    }
  }

  private static void l4Fault(Errors e, String path, L4FaultInjection fault) {
    if (fault.hasTerminate()) {
      percent(e, path + ".terminate.percent", fault.getTerminate().getPercent());
      e.add(path + ".terminate", "Istio does not support the terminate fault yet");
    }
    if (fault.hasThrottle()) {
      L4FaultInjection.Throttle t = fault.getThrottle();
      percent(e, path + ".throttle.percent", t.getPercent());
      if (t.getDownstreamLimitBps() < 0) {
        e.add(path + ".throttle.downstreamLimitBps", "must be in range [0..]");
      }
      if (t.getUpstreamLimitBps() < 0) {
        e.add(path + ".throttle.upstreamLimitBps", "must be in range [0..]");
      }
      duration(e, path + ".throttle.throttleAfterPeriod", t.hasThrottleAfterPeriod() ? t.getThrottleAfterPeriod() : null);
      if (t.getThrottleAfterBytes() < 0) {
        e.add(path + ".throttle.throttleAfterBytes", "must be in range [0..]");
      }
    }
  }

  // ---- MatchCondition ----

  private static void matchCondition(Errors e, String path, MatchCondition match) {
    if (match.hasSource()) {
      istioService(e, path + ".source", match.getSource());
    }
    if (match.hasTcp()) {
      l4Match(e, path + ".tcp", match.getTcp());
    }
    if (match.hasUdp()) {
      l4Match(e, path + ".udp", match.getUdp());
      e.add(path + ".udp", "Istio does not support UDP protocol yet");
    }
    if (match.hasRequest()) {
      Map<String, StringMatch> headers = new TreeMap<>(match.getRequest().getHeadersMap());
      for (Map.Entry<String, StringMatch> h : headers.entrySet()) {
        header(e, path + ".request.headers[" + h.getKey() + "]", h.getKey(), h.getValue());
      }
    }
  }

  private static void header(Errors e, String path, String name, StringMatch value) {
    if (name.isEmpty()) {
      e.add(path, "header name must not be empty"); // Not in 0.2; Envoy refuses an empty name
    } else if (!name.toLowerCase(Locale.ROOT).equals(name)) {
      e.add(path, "header name '" + name + "' must be in lower case");
    }
    switch (value.getMatchTypeCase()) {
      case EXACT -> {
        if (name.equals("uri") && value.getExact().isEmpty()) {
          e.add(path + ".exact", "exact header value for 'uri' must be non-empty");
        }
      }
      case PREFIX -> {
        if (name.equals("uri") && value.getPrefix().isEmpty()) {
          e.add(path + ".prefix", "prefix header value for 'uri' must be non-empty");
        }
      }
      case REGEX -> {
        if (name.equals("uri") && value.getRegex().isEmpty()) {
          e.add(path + ".regex", "regex header value for 'uri' must be non-empty");
        }
        // Not in 0.2: a regex the proxies cannot compile is refused here, not by every proxy later.
        // RE2 syntax, as Envoy's safe_regex and grpc-java's xDS client use.
        try {
          com.google.re2j.Pattern.compile(value.getRegex());
        } catch (PatternSyntaxException ex) {
          e.add(path + ".regex", "'" + value.getRegex() + "' is not a valid regular expression: "
              + ex.getDescription());
        }
      }
      case MATCHTYPE_NOT_SET -> e.add(path, "unrecognized string match: set one of exact, prefix, regex");
    }
  }

  private static void l4Match(Errors e, String path, L4MatchAttributes ma) {
    for (int i = 0; i < ma.getSourceSubnetCount(); i++) {
      subnet(e, path + ".sourceSubnet[" + i + "]", ma.getSourceSubnet(i));
    }
    for (int i = 0; i < ma.getDestinationSubnetCount(); i++) {
      subnet(e, path + ".destinationSubnet[" + i + "]", ma.getDestinationSubnet(i));
    }
  }

  /** IPv4 only, {@code a.b.c.d} or {@code a.b.c.d/n}, as 0.2. */
  private static void subnet(Errors e, String path, String subnet) {
    String[] parts = subnet.split("/", -1);
    if (parts.length > 2) {
      e.add(path, "'" + subnet + "' is not valid CIDR notation");
      return;
    }
    if (parts.length == 2) {
      int bits = parseInt(parts[1]);
      if (bits <= 0 || bits > 32) {
        e.add(path, "/" + parts[1] + " is not a valid CIDR block");
      }
    }
    if (!isIpv4(parts[0])) {
      e.add(path, "'" + parts[0] + "' is not a valid IP address");
    }
  }

  private static boolean isIpv4(String addr) {
    String[] octets = addr.split("\\.", -1);
    if (octets.length != 4) {
      return false;
    }
    for (String o : octets) {
      int n = parseInt(o);
      if (n < 0 || n > 255) {
        return false;
      }
    }
    return true;
  }

  /** Digits (with an optional sign, as Go's Atoi) to an int; -1 when not a number. */
  private static int parseInt(String s) {
    if (s.isEmpty() || s.length() > 10) {
      return -1;
    }
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException ex) {
      return -1;
    }
  }

  // ---- DestinationPolicy ----

  private static void destinationPolicy(Errors e, DestinationPolicy policy) {
    if (!policy.hasDestination()) {
      e.add("spec.destination", "required: a destination policy must have a destination service");
    } else {
      istioService(e, "spec.destination", policy.getDestination());
    }
    if (policy.hasSource()) {
      istioService(e, "spec.source", policy.getSource());
    }
    if (policy.hasLoadBalancing()
        && policy.getLoadBalancing().getLbPolicyCase() == LoadBalancing.LbPolicyCase.LBPOLICY_NOT_SET) {
      e.add("spec.loadBalancing", "must set load balancing (name: ROUND_ROBIN, LEAST_CONN or RANDOM) if specified");
    }
    if (policy.hasCircuitBreaker() && policy.getCircuitBreaker().hasSimpleCb()) {
      simpleCb(e, "spec.circuitBreaker.simpleCb", policy.getCircuitBreaker().getSimpleCb());
    }
  }

  private static void simpleCb(Errors e, String path, CircuitBreaker.SimpleCircuitBreakerPolicy cb) {
    nonNegative(e, path + ".maxConnections", cb.getMaxConnections());
    nonNegative(e, path + ".httpMaxPendingRequests", cb.getHttpMaxPendingRequests());
    nonNegative(e, path + ".httpMaxRequests", cb.getHttpMaxRequests());
    // 0.2 required both durations whenever simpleCb was set.
    duration(e, path + ".sleepWindow", cb.hasSleepWindow() ? cb.getSleepWindow() : null);
    nonNegative(e, path + ".httpConsecutiveErrors", cb.getHttpConsecutiveErrors());
    duration(e, path + ".httpDetectionInterval", cb.hasHttpDetectionInterval() ? cb.getHttpDetectionInterval() : null);
    nonNegative(e, path + ".httpMaxRequestsPerConnection", cb.getHttpMaxRequestsPerConnection());
    if (cb.getHttpMaxEjectionPercent() < 0 || cb.getHttpMaxEjectionPercent() > 100) {
      e.add(path + ".httpMaxEjectionPercent", cb.getHttpMaxEjectionPercent() + " must be in range 0..100");
    }
  }

  private static void nonNegative(Errors e, String path, int value) {
    if (value < 0) {
      e.add(path, value + " must be in range [0..]");
    }
  }

  // ---- EgressRule ----

  private static void egressRule(Errors e, EgressRule rule) {
    if (!rule.hasDestination()) {
      e.add("spec.destination", "required: an egress rule must have a destination (service: host or *.domain)");
    } else {
      IstioService d = rule.getDestination();
      if (!d.getName().isEmpty()) {
        e.add("spec.destination.name", "must not be set in an egress rule (use service)");
      }
      if (!d.getNamespace().isEmpty()) {
        e.add("spec.destination.namespace", "must not be set in an egress rule (use service)");
      }
      if (!d.getDomain().isEmpty()) {
        e.add("spec.destination.domain", "must not be set in an egress rule (use service)");
      }
      if (d.getLabelsCount() > 0) {
        e.add("spec.destination.labels", "must not be set in an egress rule");
      }
      egressDomain(e, "spec.destination.service", d.getService());
    }
    if (rule.getPortsCount() == 0) {
      e.add("spec.ports", "required: an egress rule must have a ports list");
    }
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < rule.getPortsCount(); i++) {
      EgressRule.Port port = rule.getPorts(i);
      String path = "spec.ports[" + i + "]";
      if (!ports.add(port.getPort())) {
        e.add(path + ".port", "duplicate port: " + port.getPort());
      }
      if (port.getPort() < 1 || port.getPort() > 65535) {
        e.add(path + ".port", "port number " + port.getPort() + " must be in the range 1..65535");
      } else if (!EGRESS_PROTOCOLS.contains(port.getProtocol().toUpperCase(Locale.ROOT))) {
        e.add(path + ".protocol", "'" + port.getProtocol()
            + "': support for non-HTTP protocols is not yet available (expected: HTTP, HTTPS, HTTP2 or GRPC)");
      }
    }
    if (rule.getUseEgressProxy()) {
      e.add("spec.useEgressProxy", "directing traffic through egress proxy is not implemented yet");
    }
  }

  // ---- IngressRule (internal) ----

  private static void ingressRule(Errors e, IngressRule rule) {
    if (!rule.hasDestination()) {
      e.add("spec.destination", "required: an ingress rule must have a destination service");
    } else {
      istioService(e, "spec.destination", rule.getDestination());
      if (rule.getDestination().getLabelsCount() > 0) {
        e.add("spec.destination.labels", "must be empty in an ingress rule");
      }
    }
  }

  // ---- shared ----

  private static void istioService(Errors e, String path, IstioService svc) {
    boolean hasName = !svc.getName().isEmpty();
    boolean hasService = !svc.getService().isEmpty();
    if (!hasName && !hasService) {
      e.add(path, "name or service is mandatory for a service reference");
    } else if (hasName && hasService) {
      e.add(path, "specify either name or service, not both");
    } else if (hasService) {
      egressDomain(e, path + ".service", svc.getService());
      if (!svc.getNamespace().isEmpty()) {
        e.add(path + ".namespace", "namespace is not valid when service is provided");
      }
      if (!svc.getDomain().isEmpty()) {
        e.add(path + ".domain", "domain is not valid when service is provided");
      }
    } else if (!isDns1123Label(svc.getName())) {
      e.add(path + ".name", "name '" + svc.getName() + "' must be a valid DNS-1123 label");
    }
    if (!svc.getNamespace().isEmpty() && !isDns1123Label(svc.getNamespace())) {
      e.add(path + ".namespace", "namespace '" + svc.getNamespace() + "' must be a valid DNS-1123 label");
    }
    if (!svc.getDomain().isEmpty()) {
      String problem = fqdnProblem(svc.getDomain());
      if (problem != null) {
        e.add(path + ".domain", problem);
      }
    }
    labels(e, path + ".labels", svc.getLabelsMap());
  }

  private static void labels(Errors e, String path, Map<String, String> labels) {
    for (Map.Entry<String, String> l : new TreeMap<>(labels).entrySet()) {
      if (!LABEL.matcher(l.getKey()).matches()) {
        e.add(path + "[" + l.getKey() + "]", "invalid label key '" + l.getKey() + "'");
      }
      if (!LABEL.matcher(l.getValue()).matches()) {
        e.add(path + "[" + l.getKey() + "]", "invalid label value '" + l.getValue() + "'");
      }
    }
  }

  /**
   * Envoy's virtual host domains: an FQDN, or a wildcard at the start ({@code *.foo.com}, {@code
   * *-bar.foo.com}, or {@code *} alone).
   */
  private static void egressDomain(Errors e, String path, String domain) {
    if (domain.isEmpty()) {
      e.add(path, "domain must not be empty string");
      return;
    }
    String d = domain;
    if (d.charAt(0) == '*') {
      d = d.substring(1);
      if (d.isEmpty()) {
        return;
      }
      if (d.charAt(0) == '.' || d.charAt(0) == '-') {
        d = d.substring(1);
      }
    }
    String problem = fqdnProblem(d);
    if (problem != null) {
      e.add(path, problem);
    }
  }

  private static String fqdnProblem(String fqdn) {
    if (fqdn.length() > 255) {
      return "domain name '" + fqdn + "' too long (max 255)";
    }
    if (fqdn.isEmpty()) {
      return "empty domain name not allowed";
    }
    for (String label : fqdn.split("\\.", -1)) {
      if (!isDns1123Label(label)) {
        return "domain name '" + fqdn + "' invalid (label '" + label + "' invalid)";
      }
    }
    return null;
  }

  static boolean isDns1123Label(String value) {
    return value.length() <= DNS1123_LABEL_MAX && DNS1123_LABEL.matcher(value).matches();
  }

  private static void percent(Errors e, String path, float value) {
    if (!(value >= 0f && value <= 100f)) { // NaN too
      e.add(path, value + " must be in range 0..100");
    }
  }

  /** 0.2's ValidateDuration: set, at least 1ms, whole milliseconds. */
  private static void duration(Errors e, String path, Duration d) {
    if (d == null) {
      e.add(path, "required: a duration such as 1s or 100ms");
      return;
    }
    if (d.getSeconds() < 0 || d.getNanos() < 0 || (d.getSeconds() == 0 && d.getNanos() < NANOS_PER_MILLI)) {
      e.add(path, "duration must be at least 1ms");
    } else if (d.getNanos() % NANOS_PER_MILLI != 0) {
      e.add(path, "Istio only supports durations to ms precision");
    }
  }
}
