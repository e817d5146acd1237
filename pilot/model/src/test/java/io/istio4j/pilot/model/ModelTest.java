package io.istio4j.pilot.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.config.v1.IstioService;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelTest {
  private static final Port HTTP = new Port("http", 9080, Protocol.HTTP);

  @Test
  void labelsSubsetSemantics() {
    Labels v1 = Labels.of("version", "v1");
    Labels v1prod = Labels.of("version", "v1", "env", "prod");
    assertThat(Labels.EMPTY.subsetOf(v1)).isTrue();
    assertThat(v1.subsetOf(v1prod)).isTrue();
    assertThat(v1prod.subsetOf(v1)).isFalse();
    assertThat(Labels.of("version", "v2").subsetOf(v1prod)).isFalse();
    assertThat(v1prod).hasToString("env=prod,version=v1");
    assertThat(Labels.of("canary", "", "a", "b")).hasToString("a=b,canary");
    assertThat(v1).isEqualTo(Labels.of("version", "v1"));
  }

  @Test
  void labelsCollectionMatchesAnyMemberAndEmptyMatchesAll() {
    Labels pod = Labels.of("version", "v2", "app", "reviews");
    assertThat(LabelsCollection.ALL.hasSubsetOf(pod)).isTrue();
    assertThat(LabelsCollection.of(Labels.of("version", "v1")).hasSubsetOf(pod)).isFalse();
    assertThat(LabelsCollection.of(Labels.of("version", "v1"), Labels.of("version", "v2")).hasSubsetOf(pod))
        .isTrue();
  }

  @Test
  void serviceKeyOmitsEmptyPartsFromTheRight() {
    Service s = Service.of("reviews.default.svc.cluster.local", "10.0.0.1", List.of(HTTP));
    assertThat(s.key(HTTP, LabelsCollection.of(Labels.of("version", "v1"))))
        .isEqualTo("reviews.default.svc.cluster.local|http|version=v1");
    assertThat(s.key(HTTP, LabelsCollection.ALL)).isEqualTo("reviews.default.svc.cluster.local|http");
    assertThat(Service.serviceKey("h", "", LabelsCollection.ALL)).isEqualTo("h");
    assertThat(Service.serviceKey("h", "", LabelsCollection.of(Labels.of("a", "b"), Labels.of("c", "d"))))
        .isEqualTo("h||a=b;c=d");
  }

  @Test
  void duplicatePortNamesAreRejectedByName() {
    assertThatThrownBy(() -> Service.of("a.b", null, List.of(HTTP, new Port("http", 80, Protocol.HTTP))))
        .hasMessageContaining("a.b").hasMessageContaining("'http'");
  }

  @Test
  void protocolFromKubernetesPortName() {
    assertThat(Protocol.fromPortName("http-api")).isEqualTo(Protocol.HTTP);
    assertThat(Protocol.fromPortName("grpc")).isEqualTo(Protocol.GRPC);
    assertThat(Protocol.fromPortName("mongo-db")).isEqualTo(Protocol.MONGO);
    assertThat(Protocol.fromPortName("web")).isEqualTo(Protocol.TCP);
    assertThat(Protocol.fromPortName("")).isEqualTo(Protocol.TCP);
    assertThat(Protocol.parse("Mongo")).contains(Protocol.MONGO);
  }

  @Test
  void resolveHostnameLikeUpstream() {
    assertThat(Hostnames.resolve(IstioService.newBuilder().setName("reviews").build(), "default", "cluster.local"))
        .isEqualTo("reviews.default.svc.cluster.local");
    assertThat(Hostnames.resolve(
            IstioService.newBuilder().setName("reviews").setNamespace("prod").build(), "default", "cluster.local"))
        .isEqualTo("reviews.prod.svc.cluster.local");
    assertThat(Hostnames.resolve(
            IstioService.newBuilder().setName("db").setDomain("example.com").build(), "default", "cluster.local"))
        .isEqualTo("db.default.example.com");
    assertThat(Hostnames.resolve(
            IstioService.newBuilder().setName("x").setService("httpbin.org").build(), "default", "cluster.local"))
        .isEqualTo("httpbin.org");
  }

  @Test
  void configKindNames() {
    assertThat(ConfigKind.DESTINATION_POLICY.crdPlural()).isEqualTo("destinationpolicies");
    assertThat(ConfigKind.ROUTE_RULE.crdPlural()).isEqualTo("routerules");
    assertThat(ConfigKind.byKubernetesKind("EgressRule")).contains(ConfigKind.EGRESS_RULE);
  }
}
