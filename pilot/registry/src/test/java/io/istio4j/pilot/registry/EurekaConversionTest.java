package io.istio4j.pilot.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.ServiceInstance;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EurekaConversionTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode resource(String name) throws IOException {
    try (InputStream in = EurekaConversionTest.class.getResourceAsStream("/upstream-pilot/eureka/" + name)) {
      return JSON.readTree(in);
    }
  }

  private static List<String> endpoints(RemoteRegistry.Host h) {
    return h.instances().stream()
        .map(i -> i.endpoint().address() + ":" + i.endpoint().port() + " " + i.endpoint().servicePort().name() + " "
            + i.labels())
        .toList();
  }

  @Test
  void convertsUpstreamsAppsAsUpstreamDid() throws Exception {
    EurekaConversion.Result r = EurekaConversion.convert(resource("eureka-apps.json"));
    assertThat(r.problems()).isEmpty();
    Map<String, RemoteRegistry.Host> hosts = r.hosts();
    assertThat(hosts).containsOnlyKeys("foo.bar.local", "foo.biz.local");
    // hostName is the service; enabled ports only, named by number, protocol from istio.protocol.
    RemoteRegistry.Host bar = hosts.get("foo.bar.local");
    assertThat(bar.service().ports()).containsExactly(new Port("5000", 5000, Protocol.HTTP),
        new Port("5443", 5443, Protocol.HTTP), new Port("6000", 6000, Protocol.HTTP));
    assertThat(bar.service().address()).isNull();
    assertThat(bar.service().loadBalancingDisabled()).isFalse();
    assertThat(endpoints(bar)).containsExactly("10.0.0.1:5000 5000 ", "10.0.0.1:5443 5443 ", "10.0.0.2:6000 6000 ");
    RemoteRegistry.Host biz = hosts.get("foo.biz.local");
    assertThat(biz.service().ports()).containsExactly(new Port("8080", 8080, Protocol.HTTP2));
    assertThat(endpoints(biz)).containsExactly("10.0.0.3:8080 8080 ");
    for (ServiceInstance i : biz.instances()) {
      assertThat(i.service()).isSameAs(biz.service());
      assertThat(i.availabilityZone()).isNull();
      assertThat(i.serviceAccount()).isNull();
    }
  }

  @Test
  void convertsNoAppsToNoServices() throws Exception {
    assertThat(EurekaConversion.convert(resource("eureka-no-apps.json")).hosts()).isEmpty();
  }

  @Test
  void keepsOnlyUpInstancesAndTakesLabelsFromMetadata() throws Exception {
    JsonNode root = JSON.readTree("""
        {"applications": {"application": {"name": "REVIEWS", "instance": [
          {"instanceId": "a", "hostName": "reviews.local", "ipAddr": "10.0.0.1", "status": "UP",
           "port": {"$": "9080", "@enabled": true}, "securePort": {"$": 443, "@enabled": "false"},
           "metadata": {"@class": "java.util.Collections$EmptyMap", "istio.protocol": "GrPc", "version": "v1",
                        "nested": {"x": 1}}},
          {"instanceId": "b", "hostName": "reviews.local", "ipAddr": "10.0.0.2", "status": "DOWN",
           "port": {"$": 9080, "@enabled": "true"}},
          {"instanceId": "c", "hostName": "reviews.local", "ipAddr": "10.0.0.3", "status": "OUT_OF_SERVICE",
           "port": {"$": 9080, "@enabled": "true"}},
          {"instanceId": "d", "hostName": "nothing.local", "ipAddr": "10.0.0.4", "status": "UP",
           "port": {"$": 9080, "@enabled": "false"}}
        ]}}}
        """);
    EurekaConversion.Result r = EurekaConversion.convert(root);
    // A lone application as an object, a port number as a string, @enabled as a boolean: all read.
    assertThat(r.hosts()).containsOnlyKeys("reviews.local");
    RemoteRegistry.Host h = r.hosts().get("reviews.local");
    assertThat(h.service().ports()).containsExactly(new Port("9080", 9080, Protocol.GRPC));
    assertThat(h.instances()).singleElement().satisfies(i -> {
      assertThat(i.endpoint().address()).isEqualTo("10.0.0.1");
      assertThat(i.labels()).isEqualTo(Labels.of("version", "v1"));
    });
  }

  @Test
  void keepsTheFirstProtocolOfAPortAndReportsWhatItSkips() throws Exception {
    JsonNode root = JSON.readTree("""
        {"applications": {"application": [
          {"name": "B", "instance": [{"instanceId": "b1", "hostName": "svc.local", "ipAddr": "10.0.0.2", "status": "UP",
            "port": {"$": 80, "@enabled": "true"}, "metadata": {"istio.protocol": "tcp"}}]},
          {"name": "A", "instance": [{"instanceId": "a1", "hostName": "svc.local", "ipAddr": "10.0.0.1", "status": "UP",
            "port": {"$": 80, "@enabled": "true"}, "metadata": {"istio.protocol": "http"}},
           {"instanceId": "a2", "hostName": "", "ipAddr": "10.0.0.9", "status": "UP", "port": {"$": 80, "@enabled": "true"}},
           {"instanceId": "a3", "hostName": "x.local", "ipAddr": "10.0.0.8", "status": "UP",
            "port": {"$": 70000, "@enabled": "true"}},
           {"instanceId": "a4", "hostName": "y.local", "ipAddr": "10.0.0.7", "status": "UP",
            "port": {"$": 81, "@enabled": "true"}, "metadata": {"istio.protocol": "carrier-pigeon"}}]}
        ]}}
        """);
    EurekaConversion.Result r = EurekaConversion.convert(root);
    // Applications sorted by name as upstream did: A's HTTP comes first and wins.
    assertThat(r.hosts().get("svc.local").service().ports()).containsExactly(new Port("80", 80, Protocol.HTTP));
    assertThat(r.hosts().get("svc.local").instances()).hasSize(2)
        .allSatisfy(i -> assertThat(i.endpoint().servicePort().protocol()).isEqualTo(Protocol.HTTP));
    assertThat(r.hosts().get("y.local").service().ports()).containsExactly(new Port("81", 81, Protocol.TCP));
    assertThat(r.hosts()).doesNotContainKey("x.local");
    assertThat(r.problems()).containsExactly(
        "application A instance a2: hostName is empty; skipped",
        "application A instance a3: port 70000 is not in 1..65535; ignored",
        "application A instance a4: unsupported istio.protocol 'carrier-pigeon'; using TCP",
        "svc.local:80 has conflicting protocols HTTP and TCP (instance b1); keeping HTTP");
  }

  @Test
  void rejectsJsonThatIsNotAnAppsDocument() throws Exception {
    assertThatThrownBy(() -> EurekaConversion.convert(JSON.readTree("[1,2]")))
        .isInstanceOf(EurekaConversion.FormatException.class)
        .hasMessageContaining("no \"applications\" object");
    assertThatThrownBy(() -> EurekaConversion.convert(JSON.readTree("{\"applications\": \"x\"}")))
        .isInstanceOf(EurekaConversion.FormatException.class);
    assertThat(EurekaConversion.convert(JSON.readTree("{\"applications\": {}}")).hosts()).isEmpty();
  }
}
