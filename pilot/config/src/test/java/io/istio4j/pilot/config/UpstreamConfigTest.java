package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import io.istio4j.pilot.config.v1.CircuitBreaker;
import io.istio4j.pilot.config.v1.DestinationPolicy;
import io.istio4j.pilot.config.v1.EgressRule;
import io.istio4j.pilot.config.v1.IngressRule;
import io.istio4j.pilot.config.v1.LoadBalancing;
import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every upstream rule and every Bookinfo file loads and validates. */
class UpstreamConfigTest {
  private final ConfigParser parser = new ConfigParser();

  @Test
  void everyUpstreamRuleParsesAndValidates() throws IOException {
    Map<String, Message> specs = new TreeMap<>();
    try (Stream<Path> files = Files.list(UpstreamFiles.dir("rules"))) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        specs.put(name, parser.parseSpec(UpstreamFiles.kindOf(name), name, Files.readString(f)));
      }
    }
    assertThat(specs).hasSize(12);

    RouteRule weighted = (RouteRule) specs.get("weighted-route.yaml");
    assertThat(weighted.getDestination().getName()).isEqualTo("world");
    assertThat(weighted.getRouteList()).extracting(r -> r.getWeight()).containsExactly(75, 25);
    assertThat(weighted.getRoute(1).getLabelsMap()).isEqualTo(Map.of("version", "v1"));

    // snake_case (fixed_delay, http_status, simple_retry) and camelCase mixed in one file
    RouteRule fault = (RouteRule) specs.get("fault-route.yaml");
    assertThat(fault.getHttpFault().getDelay().getFixedDelay()).isEqualTo(Duration.newBuilder().setSeconds(5).build());
    assertThat(fault.getHttpFault().getAbort().getHttpStatus()).isEqualTo(503);
    assertThat(fault.getMatch().getRequest().getHeadersMap().get("name").getRegex()).isEqualTo("sco+do+");
    assertThat(fault.getMatch().getSource().getLabelsMap()).containsEntry("version", "v0");

    RouteRule timeout = (RouteRule) specs.get("timeout-route-rule.yaml");
    assertThat(timeout.getHttpReqTimeout().getSimpleTimeout().getTimeout().getSeconds()).isEqualTo(30);
    assertThat(timeout.getHttpReqRetries().getSimpleRetry().getAttempts()).isEqualTo(1);
    assertThat(timeout.getHttpReqRetries().getSimpleRetry().getPerTryTimeout().getSeconds()).isEqualTo(5);

    assertThat(((RouteRule) specs.get("websocket-route.yaml")).getWebsocketUpgrade()).isTrue(); // YAML "True"
    assertThat(((RouteRule) specs.get("redirect-route.yaml")).getRedirect().getAuthority()).isEqualTo("foo.bar.com");
    assertThat(((RouteRule) specs.get("rewrite-route.yaml")).getRewrite().getUri()).isEqualTo("/new/path");

    DestinationPolicy cb = (DestinationPolicy) specs.get("cb-policy.yaml");
    CircuitBreaker.SimpleCircuitBreakerPolicy simple = cb.getCircuitBreaker().getSimpleCb();
    assertThat(simple.getSleepWindow()).isEqualTo(Duration.newBuilder().setSeconds(15).setNanos(500_000_000).build());
    assertThat(simple.getHttpMaxEjectionPercent()).isEqualTo(100);
    assertThat(cb.getLoadBalancing().getName()).isEqualTo(LoadBalancing.SimpleLBPolicy.RANDOM);
    assertThat(cb.getSource().getLabelsMap()).containsEntry("version", "v0");

    EgressRule egress = (EgressRule) specs.get("egress-rule.yaml");
    assertThat(egress.getDestination().getService()).isEqualTo("*.google.com");
    assertThat(egress.getPortsList()).extracting(p -> p.getPort() + "/" + p.getProtocol())
        .containsExactly("80/http", "443/https", "8080/http2");

    IngressRule ingress = (IngressRule) specs.get("ingress-route-foo.yaml");
    assertThat(ingress.getDestinationPort()).isEqualTo(81);
    assertThat(ingress.getTlsSecret()).isEqualTo("my-secret.default");
    assertThat(((IngressRule) specs.get("ingress-route-world.yaml")).getDestinationPortName()).isEqualTo("http");
  }

  @Test
  void everyBookinfoFileLoadsAndValidates() throws IOException {
    ValidationReport report = new DirectoryValidator(parser).validate(UpstreamFiles.dir("bookinfo"));

    assertThat(report.files()).hasSize(10);
    assertThat(report.files()).allMatch(ParsedFile::readable);
    // route-rule-all-v1 4, -ratings-db 2, -mysql-vm 2, -test-delay 1, -reviews-50-v3 1, -test-v2 1,
    // -v2-v3 1, -v3 1, the destination policy 1, and bookinfo.yaml's Ingress "gateway" as 5 IngressRules
    List<Config> configs = report.configs();
    assertThat(configs).hasSize(19);
    assertThat(configs).filteredOn(c -> c.meta().kind() == ConfigKind.INGRESS_RULE).extracting(c -> c.meta().name())
        .containsExactly("gateway-1-1", "gateway-1-2", "gateway-1-3", "gateway-1-4", "gateway-1-5");
    IngressRule products = configs.stream().filter(c -> c.meta().name().equals("gateway-1-5")).findFirst().orElseThrow()
        .spec(IngressRule.class);
    assertThat(products.getMatch().getRequest().getHeadersMap().get("uri").getPrefix()).isEqualTo("/api/v1/products/");
    assertThat(products.getDestination().getName()).isEqualTo("productpage");
    assertThat(report.documents()).filteredOn(d -> d.status() == ConfigDocument.Status.INVALID).isEmpty();
    // bookinfo.yaml's Services and Deployments are not Pilot config
    assertThat(report.ignored()).isNotEmpty().allMatch(l -> l.startsWith("bookinfo.yaml:"));
    // reviews-default is defined in four files, as in upstream's samples (applied one at a time)
    assertThat(report.duplicates()).hasSize(3).allMatch(l -> l.contains("route-rule default/reviews-default"));

    Config policy = configs.stream().filter(c -> c.meta().kind() == ConfigKind.DESTINATION_POLICY).findFirst()
        .orElseThrow();
    assertThat(policy.key()).isEqualTo("destination-policy/default/reviews-random"); // apiVersion v1beta1
    Config delay = configs.stream().filter(c -> c.meta().name().equals("ratings-test-delay")).findFirst().orElseThrow();
    RouteRule rule = delay.spec(RouteRule.class);
    assertThat(rule.getPrecedence()).isEqualTo(2);
    assertThat(rule.getHttpFault().getDelay().getFixedDelay().getSeconds()).isEqualTo(7);
    assertThat(rule.getMatch().getRequest().getHeadersMap().get("cookie").getRegex())
        .isEqualTo("^(.*?;)?(user=jason)(;.*)?$");
  }
}
