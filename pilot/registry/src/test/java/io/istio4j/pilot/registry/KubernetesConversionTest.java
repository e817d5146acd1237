package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.KubeObjects.endpoints;
import static io.istio4j.pilot.registry.KubeObjects.port;
import static io.istio4j.pilot.registry.KubeObjects.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.EndpointsBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubernetesConversionTest {
  private static final String DOMAIN = "cluster.local";

  @Test
  void hostnameIsNameNamespaceSvcDomain() {
    assertThat(KubernetesConversion.hostname("reviews", "default", DOMAIN))
        .isEqualTo("reviews.default.svc.cluster.local");
    Service s = KubernetesConversion.service(service("prod", "ratings", "10.0.0.1", port("http", 9080)), "corp.example");
    assertThat(s.hostname()).isEqualTo("ratings.prod.svc.corp.example");
  }

  @Test
  void serviceWithoutNamespaceIsInDefault() {
    var svc = service(null, "ratings", "10.0.0.1", port("http", 9080));
    assertThat(KubernetesConversion.service(svc, DOMAIN).hostname()).isEqualTo("ratings.default.svc.cluster.local");
  }

  @Test
  void protocolComesFromThePortNamePrefix() {
    assertThat(KubernetesConversion.protocol("grpc", "TCP")).isEqualTo(Protocol.GRPC);
    assertThat(KubernetesConversion.protocol("grpc-web", "TCP")).isEqualTo(Protocol.GRPC);
    assertThat(KubernetesConversion.protocol("http", "TCP")).isEqualTo(Protocol.HTTP);
    assertThat(KubernetesConversion.protocol("http-api", "TCP")).isEqualTo(Protocol.HTTP);
    assertThat(KubernetesConversion.protocol("http2", "TCP")).isEqualTo(Protocol.HTTP2);
    assertThat(KubernetesConversion.protocol("https-admin", "TCP")).isEqualTo(Protocol.HTTPS);
    assertThat(KubernetesConversion.protocol("mongo", "TCP")).isEqualTo(Protocol.MONGO);
    assertThat(KubernetesConversion.protocol("redis-cache", "TCP")).isEqualTo(Protocol.REDIS);
    assertThat(KubernetesConversion.protocol("httpx", "TCP")).isEqualTo(Protocol.TCP);
    assertThat(KubernetesConversion.protocol("web", "TCP")).isEqualTo(Protocol.TCP);
    assertThat(KubernetesConversion.protocol("tcp-db", "TCP")).isEqualTo(Protocol.TCP);
    assertThat(KubernetesConversion.protocol("", "TCP")).isEqualTo(Protocol.TCP);
    assertThat(KubernetesConversion.protocol(null, null)).isEqualTo(Protocol.TCP);
    // Kubernetes defaults an absent protocol to TCP, so a hand-written port still gets its prefix.
    assertThat(KubernetesConversion.protocol("http", null)).isEqualTo(Protocol.HTTP);
  }

  @Test
  void udpPortsAreUdpWhateverTheirName() {
    assertThat(KubernetesConversion.protocol("dns", "UDP")).isEqualTo(Protocol.UDP);
    assertThat(KubernetesConversion.protocol("http", "UDP")).isEqualTo(Protocol.UDP);
    assertThat(KubernetesConversion.protocol("http", "SCTP")).isEqualTo(Protocol.TCP);
  }

  @Test
  void clusterIpIsTheAddress() {
    Service s = KubernetesConversion.service(service("default", "reviews", "10.0.0.3", port("http", 9080)), DOMAIN);
    assertThat(s.address()).isEqualTo("10.0.0.3");
    assertThat(s.external()).isFalse();
    assertThat(s.loadBalancingDisabled()).isFalse();
    assertThat(s.ports()).containsExactly(new Port("http", 9080, Protocol.HTTP));
  }

  @Test
  void headlessServiceHasNoAddressAndNoLoadBalancing() {
    Service s = KubernetesConversion.service(service("default", "db", "None", port("tcp", 5432)), DOMAIN);
    assertThat(s.address()).isNull();
    assertThat(s.loadBalancingDisabled()).isTrue();
  }

  @Test
  void externalNameServiceIsExternal() {
    var svc = new ServiceBuilder()
        .withNewMetadata().withNamespace("default").withName("google").endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("www.google.com")
        .withPorts(port("https", 443)).endSpec().build();
    Service s = KubernetesConversion.service(svc, DOMAIN);
    assertThat(s.externalName()).isEqualTo("www.google.com");
    assertThat(s.external()).isTrue();
    assertThat(s.address()).isNull();
    assertThat(s.loadBalancingDisabled()).isFalse();
    assertThat(s.ports()).containsExactly(new Port("https", 443, Protocol.HTTPS));
  }

  @Test
  void serviceAccountAnnotationsBecomeSpiffeIdentitiesSorted() {
    var svc = new ServiceBuilder(service("prod", "legacy", "10.0.0.9", port("http", 80)))
        .editMetadata()
        .withAnnotations(Map.of(
            KubernetesConversion.KUBE_SERVICE_ACCOUNTS_ANNOTATION, "vm-b, vm-a,,",
            KubernetesConversion.CANONICAL_SERVICE_ACCOUNTS_ANNOTATION, "legacy@corp.example.com"))
        .endMetadata().build();
    Service s = KubernetesConversion.service(svc, DOMAIN);
    assertThat(s.serviceAccounts()).containsExactly(
        "spiffe://cluster.local/ns/prod/sa/vm-a",
        "spiffe://cluster.local/ns/prod/sa/vm-b",
        "spiffe://legacy@corp.example.com");
  }

  @Test
  void badServicesAreRejectedNamingObjectAndField() {
    assertThatThrownBy(() -> KubernetesConversion.service(service("default", "x", "10.0.0.1", port("http", 0)), DOMAIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Service default/x").hasMessageContaining("port 0");
    assertThatThrownBy(() -> KubernetesConversion.service(
            service("default", "x", "10.0.0.1", port("http", 80), port("http", 81)), DOMAIN))
        .hasMessageContaining("Service default/x").hasMessageContaining("'http' is used twice");
    assertThatThrownBy(() -> KubernetesConversion.service(service("default", "a.b", "10.0.0.1"), DOMAIN))
        .hasMessageContaining("metadata.name 'a.b'");
    assertThatThrownBy(() -> KubernetesConversion.service(new ServiceBuilder().build(), DOMAIN))
        .hasMessageContaining("metadata.name is missing");
  }

  @Test
  void instancesAreReadyAddressesTimesPortsMatchedByName() {
    Service svc = KubernetesConversion.service(
        service("default", "reviews", "10.0.0.3", port("http", 9080), port("grpc-x", 7070)), DOMAIN);
    Endpoints ep = new EndpointsBuilder()
        .withNewMetadata().withNamespace("default").withName("reviews").endMetadata()
        .addNewSubset()
        .addNewAddress().withIp("10.1.0.1").endAddress()
        .addNewAddress().withIp("10.1.0.2").endAddress()
        .addNewNotReadyAddress().withIp("10.1.0.99").endNotReadyAddress()
        .addNewPort().withName("http").withPort(8080).endPort()
        .addNewPort().withName("grpc-x").withPort(7777).endPort()
        .addNewPort().withName("metrics").withPort(9090).endPort()
        .endSubset()
        .build();
    List<ServiceInstance> list = KubernetesConversion.instances(svc, ep, ip -> KubernetesConversion.Workload.UNKNOWN);
    assertThat(list).extracting(i -> i.endpoint().address() + ":" + i.endpoint().port() + "/" + i.endpoint().servicePort().name())
        .containsExactly("10.1.0.1:8080/http", "10.1.0.1:7777/grpc-x", "10.1.0.2:8080/http", "10.1.0.2:7777/grpc-x");
    // The endpoint port is the instance's; the service port keeps its own number and protocol.
    assertThat(list.get(0).endpoint().servicePort()).isEqualTo(new Port("http", 9080, Protocol.HTTP));
    assertThat(list.get(1).endpoint().servicePort().protocol()).isEqualTo(Protocol.GRPC);
    assertThat(list.get(0).labels()).isEqualTo(Labels.EMPTY);
    assertThat(list.get(0).availabilityZone()).isNull();
    assertThat(list.get(0).serviceAccount()).isNull();
  }

  @Test
  void unnamedSinglePortMatchesUnnamedEndpointPort() {
    Service svc = KubernetesConversion.service(service("default", "web", "10.0.0.3", port(null, 80)), DOMAIN);
    Endpoints ep = endpoints("default", "web", new String[] {"10.1.0.1"}, null, 8080);
    assertThat(KubernetesConversion.instances(svc, ep, ip -> KubernetesConversion.Workload.UNKNOWN))
        .extracting(i -> i.endpoint().port()).containsExactly(8080);
  }

  @Test
  void instancesTakeTheWorkloadOfTheirIp() {
    Service svc = KubernetesConversion.service(service("default", "reviews", "10.0.0.3", port("http", 9080)), DOMAIN);
    Endpoints ep = endpoints("default", "reviews", new String[] {"10.1.0.1", "10.1.0.2"}, "http", 9080);
    var v1 = new KubernetesConversion.Workload(Labels.of("version", "v1"), "r/z", "spiffe://cluster.local/ns/default/sa/a");
    List<ServiceInstance> list = KubernetesConversion.instances(svc, ep,
        ip -> ip.equals("10.1.0.1") ? v1 : KubernetesConversion.Workload.UNKNOWN);
    assertThat(list.get(0).labels()).isEqualTo(Labels.of("version", "v1"));
    assertThat(list.get(0).availabilityZone()).isEqualTo("r/z");
    assertThat(list.get(0).serviceAccount()).isEqualTo("spiffe://cluster.local/ns/default/sa/a");
    assertThat(list.get(1).labels()).isEqualTo(Labels.EMPTY);
  }

  @Test
  void availabilityZoneIsRegionSlashZoneFromEitherLabelGeneration() {
    assertThat(KubernetesConversion.availabilityZone(KubeObjects.node("n", Map.of(
        KubernetesConversion.LEGACY_REGION_LABEL, "us-east1", KubernetesConversion.LEGACY_ZONE_LABEL, "us-east1-b"))))
        .contains("us-east1/us-east1-b");
    assertThat(KubernetesConversion.availabilityZone(KubeObjects.node("n", KubeObjects.zoneLabels("eu-west1", "eu-west1-c"))))
        .contains("eu-west1/eu-west1-c");
    // Today's labels win when a node carries both.
    assertThat(KubernetesConversion.availabilityZone(KubeObjects.node("n", Map.of(
        KubernetesConversion.REGION_LABEL, "new", KubernetesConversion.ZONE_LABEL, "new-a",
        KubernetesConversion.LEGACY_REGION_LABEL, "old", KubernetesConversion.LEGACY_ZONE_LABEL, "old-a"))))
        .contains("new/new-a");
    assertThat(KubernetesConversion.availabilityZone(KubeObjects.node("n", Map.of(KubernetesConversion.REGION_LABEL, "r"))))
        .isEmpty();
    assertThat(KubernetesConversion.availabilityZone(null)).isEmpty();
  }

  @Test
  void podServiceAccountIsSpiffeUriDefaultingToDefault() {
    Pod p = KubeObjects.pod("prod", "p", "10.1.0.1", "n", "reviews", Map.of());
    assertThat(KubernetesConversion.podServiceAccount(p, DOMAIN)).isEqualTo("spiffe://cluster.local/ns/prod/sa/reviews");
    Pod noSa = new PodBuilder(p).editSpec().withServiceAccountName(null).endSpec().build();
    assertThat(KubernetesConversion.podServiceAccount(noSa, DOMAIN)).isEqualTo("spiffe://cluster.local/ns/prod/sa/default");
  }

  @Test
  void managementPortsComeFromLivenessAndReadinessProbes() {
    Pod p = new PodBuilder()
        .withNewMetadata().withName("p").withNamespace("default").endMetadata()
        .withNewSpec()
        .addToContainers(new ContainerBuilder().withName("app")
            .addNewPort().withName("health").withContainerPort(8081).endPort()
            .withLivenessProbe(new ProbeBuilder().withNewHttpGet().withPath("/live").withPort(new IntOrString(9090)).endHttpGet().build())
            .withReadinessProbe(new ProbeBuilder().withNewTcpSocket().withPort(new IntOrString("health")).endTcpSocket().build())
            .build())
        .addToContainers(new ContainerBuilder().withName("sidecar")
            .withLivenessProbe(new ProbeBuilder().withNewExec().withCommand("true").endExec().build())
            .withReadinessProbe(new ProbeBuilder().withNewHttpGet().withPort(new IntOrString(9090)).endHttpGet().build())
            .build())
        .addToContainers(new ContainerBuilder().withName("broken")
            .withLivenessProbe(new ProbeBuilder().withNewTcpSocket().withPort(new IntOrString("nope")).endTcpSocket().build())
            .build())
        .endSpec().build();
    assertThat(KubernetesConversion.managementPorts(p)).containsExactly(
        new Port("mgmt-8081", 8081, Protocol.TCP), new Port("mgmt-9090", 9090, Protocol.HTTP));
  }
}
