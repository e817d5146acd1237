package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Message;
import io.istio4j.pilot.config.v1.DestinationWeight;
import io.istio4j.pilot.config.v1.IstioService;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigMeta;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One test per rule of Istio 0.2's validation.go (and the few added ones), each with a good and a bad case. */
class ConfigValidatorTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The errors of a spec written in YAML, as {@code field: message}. */
  private static List<String> errors(ConfigKind kind, String yaml) {
    List<FieldError> errors = new ArrayList<>();
    Message spec;
    try {
      spec = SpecReader.read(kind.defaultInstance(), YAML.readTree(yaml), "spec", errors);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(errors).as("parse errors").isEmpty();
    return ConfigValidator.validate(kind, spec).stream().map(FieldError::toString).toList();
  }

  private static List<String> route(String yaml) {
    return errors(ConfigKind.ROUTE_RULE, yaml);
  }

  private static List<String> policy(String yaml) {
    return errors(ConfigKind.DESTINATION_POLICY, yaml);
  }

  private static List<String> egress(String yaml) {
    return errors(ConfigKind.EGRESS_RULE, yaml);
  }

  // ---- RouteRule ----

  @Test
  void routeRuleNeedsADestination() {
    assertThat(route("destination: {name: reviews}")).isEmpty();
    assertThat(route("precedence: 1")).containsExactly(
        "spec.destination: required: a route rule must have a destination service");
  }

  @Test
  void routeRuleDestinationHasNoLabels() {
    assertThat(route("destination: {name: reviews, labels: {version: v1}}"))
        .containsExactly("spec.destination.labels: must be empty in a route rule (select versions in route[].labels)");
  }

  @Test
  void serviceReferenceNeedsNameOrServiceNotBoth() {
    assertThat(route("destination: {service: reviews.default.svc.cluster.local}")).isEmpty();
    assertThat(route("destination: {namespace: default}"))
        .containsExactly("spec.destination: name or service is mandatory for a service reference");
    assertThat(route("destination: {name: reviews, service: reviews.default.svc.cluster.local}"))
        .containsExactly("spec.destination: specify either name or service, not both");
  }

  @Test
  void serviceReferencePartsAreDnsNames() {
    assertThat(route("destination: {name: reviews, namespace: prod, domain: cluster.local}")).isEmpty();
    assertThat(route("destination: {name: Reviews_1, namespace: \"?\", domain: \"a.?\"}")).containsExactly(
        "spec.destination.name: name 'Reviews_1' must be a valid DNS-1123 label",
        "spec.destination.namespace: namespace '?' must be a valid DNS-1123 label",
        "spec.destination.domain: domain name 'a.?' invalid (label '?' invalid)");
    assertThat(route("destination: {service: \"bad..host\", namespace: x, domain: y}")).containsExactly(
        "spec.destination.service: domain name 'bad..host' invalid (label '' invalid)",
        "spec.destination.namespace: namespace is not valid when service is provided",
        "spec.destination.domain: domain is not valid when service is provided");
  }

  @Test
  void labelKeysAndValuesUse0Point2Syntax() {
    assertThat(route("destination: {name: a}\nroute: [{labels: {app.kubernetes.io/version: v1_2-3}}]")).isEmpty();
    assertThat(route("destination: {name: a}\nroute: [{labels: {\"bad key\": \"v 1\"}}]")).containsExactly(
        "spec.route[0].labels[bad key]: invalid label key 'bad key'",
        "spec.route[0].labels[bad key]: invalid label value 'v 1'");
  }

  @Test
  void weightsAreInRangeAndTotal100() {
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}}]")).isEmpty(); // one route, no weight
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}, weight: 100}]")).isEmpty();
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}, weight: 50}, {labels: {v: b}, weight: 50}]"))
        .isEmpty();
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}, weight: 50}, {labels: {v: b}, weight: 40}]"))
        .containsExactly("spec.route: route weights total 90 (must total 100)");
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}, weight: 150}, {labels: {v: b}, weight: -50}]"))
        .containsExactly("spec.route[0].weight: 150 must be in range 0..100",
            "spec.route[1].weight: -50 must be in range 0..100");
    assertThat(route("destination: {name: a}\nroute: [{labels: {v: a}}, {labels: {v: b}}]"))
        .containsExactly("spec.route: route weights total 0 (must total 100)");
  }

  @Test
  void routeDestinationIsAServiceReference() {
    assertThat(route("destination: {name: a}\nroute: [{destination: {name: b}}]")).isEmpty();
    assertThat(route("destination: {name: a}\nroute: [{destination: {namespace: b}}]"))
        .containsExactly("spec.route[0].destination: name or service is mandatory for a service reference");
  }

  @Test
  void redirectExcludesRouteFaultRewriteAndWebsocket() {
    assertThat(route("destination: {name: a}\nredirect: {uri: /new}")).isEmpty();
    assertThat(route("""
        destination: {name: a}
        redirect: {uri: /new}
        route: [{labels: {v: a}}]
        httpFault: {abort: {percent: 10, httpStatus: 503}}
        rewrite: {uri: /x}
        websocketUpgrade: true
        """)).containsExactly(
        "spec.redirect: a rule cannot have both route and redirect",
        "spec.redirect: a rule cannot have both httpFault and redirect",
        "spec.websocketUpgrade: WebSocket upgrade is not allowed on redirect rules",
        "spec.rewrite: a rule cannot have both rewrite and redirect");
  }

  @Test
  void redirectAndRewriteNeedUriOrAuthority() {
    assertThat(route("destination: {name: a}\nrewrite: {authority: b.com}")).isEmpty();
    assertThat(route("destination: {name: a}\nrewrite: {}")).containsExactly("spec.rewrite: must set uri, authority or both");
    assertThat(route("destination: {name: a}\nredirect: {}")).containsExactly("spec.redirect: must set uri, authority or both");
  }

  @Test
  void headerMatchKeysAreLowerCaseAndSet() {
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {cookie: {regex: \"^(.*?;)?(user=jason)(;.*)?$\"}}}}"))
        .isEmpty();
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {Cookie: {exact: a}, x-b: {}, \"\": {exact: c}}}}"))
        .containsExactly("spec.match.request.headers[]: header name must not be empty",
            "spec.match.request.headers[Cookie]: header name 'Cookie' must be in lower case",
            "spec.match.request.headers[x-b]: unrecognized string match: set one of exact, prefix, regex");
  }

  @Test
  void uriMatchIsNotEmpty() {
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {uri: {prefix: /}}}}")).isEmpty();
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {uri: {exact: \"\"}}}}"))
        .containsExactly("spec.match.request.headers[uri].exact: exact header value for 'uri' must be non-empty");
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {uri: {prefix: \"\"}}}}"))
        .containsExactly("spec.match.request.headers[uri].prefix: prefix header value for 'uri' must be non-empty");
  }

  @Test
  void regexesMustCompile() {
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {name: {regex: \"sco+do+\"}}}}")).isEmpty();
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {name: {regex: \"sco(+\"}}}}"))
        .singleElement().asString()
        .startsWith("spec.match.request.headers[name].regex: 'sco(+' is not a valid regular expression: ");
    // RE2 (Envoy's safe_regex) has no backreferences
    assertThat(route("destination: {name: a}\nmatch: {request: {headers: {name: {regex: \"(a)\\\\1\"}}}}"))
        .hasSize(1);
  }

  @Test
  void matchSourceAndSubnets() {
    assertThat(route("destination: {name: a}\nmatch: {source: {name: b, labels: {version: v1}}, "
        + "tcp: {sourceSubnet: [10.0.0.0/8, 1.2.3.4]}}")).isEmpty();
    assertThat(route("destination: {name: a}\nmatch: {source: {}, tcp: {sourceSubnet: [10.0.0/8, 1.2.3.4/33, a/b/c], "
        + "destinationSubnet: [300.1.1.1]}}")).containsExactly(
        "spec.match.source: name or service is mandatory for a service reference",
        "spec.match.tcp.sourceSubnet[0]: '10.0.0' is not a valid IP address",
        "spec.match.tcp.sourceSubnet[1]: /33 is not a valid CIDR block",
        "spec.match.tcp.sourceSubnet[2]: 'a/b/c' is not valid CIDR notation",
        "spec.match.tcp.destinationSubnet[0]: '300.1.1.1' is not a valid IP address");
  }

  @Test
  void udpIsNotSupported() {
    assertThat(route("destination: {name: a}\nmatch: {udp: {sourceSubnet: [10.0.0.0/8]}}"))
        .containsExactly("spec.match.udp: Istio does not support UDP protocol yet");
  }

  @Test
  void timeoutIsAWholeMillisecondDuration() {
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {timeout: 1.5s}}")).isEmpty();
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {timeout: 2000us}}")).isEmpty();
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {timeout: 0.5ms}}"))
        .containsExactly("spec.httpReqTimeout.simpleTimeout.timeout: duration must be at least 1ms");
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {timeout: 1001us}}"))
        .containsExactly("spec.httpReqTimeout.simpleTimeout.timeout: Istio only supports durations to ms precision");
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {timeout: -1s}}"))
        .containsExactly("spec.httpReqTimeout.simpleTimeout.timeout: duration must be at least 1ms");
    assertThat(route("destination: {name: a}\nhttpReqTimeout: {simpleTimeout: {}}"))
        .containsExactly("spec.httpReqTimeout.simpleTimeout.timeout: required: a duration such as 1s or 100ms");
  }

  @Test
  void retriesHaveNonNegativeAttemptsAndAPerTryTimeout() {
    assertThat(route("destination: {name: a}\nhttpReqRetries: {simpleRetry: {attempts: 3, perTryTimeout: 2s}}")).isEmpty();
    assertThat(route("destination: {name: a}\nhttpReqRetries: {simpleRetry: {attempts: -1}}")).containsExactly(
        "spec.httpReqRetries.simpleRetry.attempts: -1 must be in range [0..]",
        "spec.httpReqRetries.simpleRetry.perTryTimeout: required: a duration such as 1s or 100ms");
  }

  @Test
  void faultDelayPercentAndDuration() {
    assertThat(route("destination: {name: a}\nhttpFault: {delay: {percent: 50, fixedDelay: 5s}}")).isEmpty();
    assertThat(route("destination: {name: a}\nhttpFault: {delay: {percent: 101, fixedDelay: 0s}}")).containsExactly(
        "spec.httpFault.delay.percent: 101.0 must be in range 0..100",
        "spec.httpFault.delay.fixedDelay: duration must be at least 1ms");
    assertThat(route("destination: {name: a}\nhttpFault: {delay: {percent: 5, exponentialDelay: 1s}}")).containsExactly(
        "spec.httpFault.delay.fixedDelay: required: a duration such as 1s or 100ms",
        "spec.httpFault.delay.exponentialDelay: Istio does not support exponentialDelay yet");
  }

  @Test
  void faultAbortPercentAndStatus() {
    assertThat(route("destination: {name: a}\nhttpFault: {abort: {percent: 100, httpStatus: 503}}")).isEmpty();
    assertThat(route("destination: {name: a}\nhttpFault: {abort: {percent: -1, httpStatus: 700}}")).containsExactly(
        "spec.httpFault.abort.percent: -1.0 must be in range 0..100",
        "spec.httpFault.abort.httpStatus: invalid abort http status 700 (expected: 200..599)");
    assertThat(route("destination: {name: a}\nhttpFault: {abort: {percent: 1, grpcStatus: UNAVAILABLE}}"))
        .containsExactly("spec.httpFault.abort.grpcStatus: Istio does not support gRPC fault injection yet");
  }

  @Test
  void l4FaultsAreNotImplemented() {
    assertThat(route("destination: {name: a}\nl4Fault: {throttle: {percent: 10, throttleAfterPeriod: 1s}}"))
        .containsExactly("spec.l4Fault: L4 faults are not implemented");
    assertThat(route("destination: {name: a}\nl4Fault: {terminate: {percent: 200}}")).containsExactly(
        "spec.l4Fault.terminate.percent: 200.0 must be in range 0..100",
        "spec.l4Fault.terminate: Istio does not support the terminate fault yet",
        "spec.l4Fault: L4 faults are not implemented");
  }

  // ---- DestinationPolicy ----

  @Test
  void policyNeedsAValidDestinationAndSource() {
    assertThat(policy("destination: {name: reviews, labels: {version: v1}}\nsource: {name: productpage}")).isEmpty();
    assertThat(policy("source: {}")).containsExactly(
        "spec.destination: required: a destination policy must have a destination service",
        "spec.source: name or service is mandatory for a service reference");
  }

  @Test
  void loadBalancingMustBeSetIfGiven() {
    assertThat(policy("destination: {name: a}\nloadBalancing: {name: ROUND_ROBIN}")).isEmpty();
    assertThat(policy("destination: {name: a}\nloadBalancing: {}")).containsExactly(
        "spec.loadBalancing: must set load balancing (name: ROUND_ROBIN, LEAST_CONN or RANDOM) if specified");
  }

  @Test
  void circuitBreakerLimits() {
    assertThat(policy("destination: {name: a}\ncircuitBreaker: {simpleCb: {maxConnections: 1, sleepWindow: 15m, "
        + "httpDetectionInterval: 1s, httpMaxEjectionPercent: 100}}")).isEmpty();
    assertThat(policy("""
        destination: {name: a}
        circuitBreaker:
          simpleCb:
            maxConnections: -1
            httpMaxPendingRequests: -1
            httpMaxRequests: -1
            sleepWindow: -1s
            httpConsecutiveErrors: -1
            httpDetectionInterval: -1s
            httpMaxRequestsPerConnection: -1
            httpMaxEjectionPercent: 101
        """)).containsExactly(
        "spec.circuitBreaker.simpleCb.maxConnections: -1 must be in range [0..]",
        "spec.circuitBreaker.simpleCb.httpMaxPendingRequests: -1 must be in range [0..]",
        "spec.circuitBreaker.simpleCb.httpMaxRequests: -1 must be in range [0..]",
        "spec.circuitBreaker.simpleCb.sleepWindow: duration must be at least 1ms",
        "spec.circuitBreaker.simpleCb.httpConsecutiveErrors: -1 must be in range [0..]",
        "spec.circuitBreaker.simpleCb.httpDetectionInterval: duration must be at least 1ms",
        "spec.circuitBreaker.simpleCb.httpMaxRequestsPerConnection: -1 must be in range [0..]",
        "spec.circuitBreaker.simpleCb.httpMaxEjectionPercent: 101 must be in range 0..100");
  }

  @Test
  void circuitBreakerNeedsBothDurationsAs0Point2Did() {
    assertThat(policy("destination: {name: a}\ncircuitBreaker: {simpleCb: {maxConnections: 1}}")).containsExactly(
        "spec.circuitBreaker.simpleCb.sleepWindow: required: a duration such as 1s or 100ms",
        "spec.circuitBreaker.simpleCb.httpDetectionInterval: required: a duration such as 1s or 100ms");
  }

  // ---- EgressRule ----

  @Test
  void egressRuleDestinationIsOnlyAService() {
    assertThat(egress("destination: {service: \"*.google.com\"}\nports: [{port: 443, protocol: https}]")).isEmpty();
    assertThat(egress("destination: {service: \"*\"}\nports: [{port: 80, protocol: HTTP}]")).isEmpty();
    assertThat(egress("destination: {service: \"*-bar.foo.com\"}\nports: [{port: 80, protocol: grpc}]")).isEmpty();
    assertThat(egress("destination: {name: a, namespace: b, domain: c, labels: {v: a}}\nports: [{port: 80, protocol: http}]"))
        .containsExactly(
            "spec.destination.name: must not be set in an egress rule (use service)",
            "spec.destination.namespace: must not be set in an egress rule (use service)",
            "spec.destination.domain: must not be set in an egress rule (use service)",
            "spec.destination.labels: must not be set in an egress rule",
            "spec.destination.service: domain must not be empty string");
    assertThat(egress("ports: [{port: 80, protocol: http}]"))
        .containsExactly("spec.destination: required: an egress rule must have a destination (service: host or *.domain)");
    assertThat(egress("destination: {service: \"foo.*.com\"}\nports: [{port: 80, protocol: http}]"))
        .containsExactly("spec.destination.service: domain name 'foo.*.com' invalid (label '*' invalid)");
  }

  @Test
  void egressRulePortsAreUniqueInRangeAndHttp() {
    assertThat(egress("destination: {service: a.com}")).containsExactly(
        "spec.ports: required: an egress rule must have a ports list");
    assertThat(egress("destination: {service: a.com}\nports: [{port: 80, protocol: http}, {port: 80, protocol: http2}, "
        + "{port: 0, protocol: http}, {port: 3306, protocol: tcp}]")).containsExactly(
        "spec.ports[1].port: duplicate port: 80",
        "spec.ports[2].port: port number 0 must be in the range 1..65535",
        "spec.ports[3].protocol: 'tcp': support for non-HTTP protocols is not yet available "
            + "(expected: HTTP, HTTPS, HTTP2 or GRPC)");
  }

  @Test
  void egressProxyIsNotImplemented() {
    assertThat(egress("destination: {service: a.com}\nports: [{port: 80, protocol: http}]\nuseEgressProxy: true"))
        .containsExactly("spec.useEgressProxy: directing traffic through egress proxy is not implemented yet");
  }

  // ---- IngressRule, metadata, messages ----

  @Test
  void ingressRuleNeedsADestinationWithoutLabels() {
    assertThat(errors(ConfigKind.INGRESS_RULE, "destination: {name: a}\ndestinationPort: 80")).isEmpty();
    assertThat(errors(ConfigKind.INGRESS_RULE, "destination: {name: a, labels: {v: a}}"))
        .containsExactly("spec.destination.labels: must be empty in an ingress rule");
    assertThat(errors(ConfigKind.INGRESS_RULE, "port: 80"))
        .containsExactly("spec.destination: required: an ingress rule must have a destination service");
  }

  @Test
  void namesAndNamespacesAreKubernetesNames() {
    assertThat(ConfigValidator.validateMeta(ConfigMeta.of(ConfigKind.ROUTE_RULE, "reviews.v2-a", "default"))).isEmpty();
    assertThat(ConfigValidator.validateMeta(ConfigMeta.of(ConfigKind.ROUTE_RULE, "a/b", "Default")))
        .extracting(FieldError::field).containsExactly("metadata.name", "metadata.namespace");
  }

  @Test
  void messagesNameTheObjectAndField() {
    RouteRule rule = RouteRule.newBuilder()
        .setDestination(IstioService.newBuilder().setName("reviews"))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v2").setWeight(60))
        .addRoute(DestinationWeight.newBuilder().putLabels("version", "v3").setWeight(140))
        .build();
    Config config = new Config(ConfigMeta.of(ConfigKind.ROUTE_RULE, "reviews-v2", "default"), rule);
    assertThat(ConfigValidator.describe(config.meta(), ConfigValidator.validate(config))).isEqualTo(
        "route-rule default/reviews-v2: spec.route[1].weight: 140 must be in range 0..100\n"
            + "route-rule default/reviews-v2: spec.route: route weights total 200 (must total 100)");
  }
}
