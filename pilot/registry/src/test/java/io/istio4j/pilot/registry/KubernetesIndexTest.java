package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.KubeObjects.endpoints;
import static io.istio4j.pilot.registry.KubeObjects.node;
import static io.istio4j.pilot.registry.KubeObjects.pod;
import static io.istio4j.pilot.registry.KubeObjects.port;
import static io.istio4j.pilot.registry.KubeObjects.service;
import static io.istio4j.pilot.registry.KubeObjects.zoneLabels;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.RegistryEvent.Kind;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class KubernetesIndexTest {
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final String RATINGS = "ratings.default.svc.cluster.local";

  private final KubernetesIndex index = new KubernetesIndex("test", "cluster.local");
  private List<RegistryEvent> events = new ArrayList<>();

  @BeforeEach
  void bookinfo() {
    index.putNode(node("node-a", zoneLabels("us-east1", "us-east1-b")), events);
    index.putPod(pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1")), events);
    index.putPod(pod("default", "reviews-v2", "10.1.0.2", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v2")), events);
    index.putPod(pod("default", "ratings-v1", "10.1.0.3", "node-b", "bookinfo-ratings", Map.of("app", "ratings", "version", "v1")), events);
    index.putService(service("default", "reviews", "10.0.0.3", port("http", 9080)), events);
    index.putService(service("default", "ratings", "10.0.0.4", port("http", 9080)), events);
    index.putEndpoints(endpoints("default", "reviews", new String[] {"10.1.0.1", "10.1.0.2"}, "http", 9080), events);
    index.putEndpoints(endpoints("default", "ratings", new String[] {"10.1.0.3"}, "http", 9080), events);
    events = new ArrayList<>();
  }

  @Test
  void instancesCarryPodLabelsNodeZoneAndServiceAccount() {
    List<ServiceInstance> v1 = index.instances(REVIEWS, Set.of(), LabelsCollection.of(Labels.of("version", "v1")));
    assertThat(v1).hasSize(1);
    ServiceInstance i = v1.get(0);
    assertThat(i.endpoint().address()).isEqualTo("10.1.0.1");
    assertThat(i.labels()).isEqualTo(Labels.of("app", "reviews", "version", "v1"));
    assertThat(i.availabilityZone()).isEqualTo("us-east1/us-east1-b");
    assertThat(i.serviceAccount()).isEqualTo("spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    // node-b is unknown: no zone, but labels and identity still come from the pod.
    ServiceInstance r = index.instances(RATINGS, Set.of(), LabelsCollection.ALL).get(0);
    assertThat(r.availabilityZone()).isNull();
    assertThat(r.serviceAccount()).isEqualTo("spiffe://cluster.local/ns/default/sa/bookinfo-ratings");
    assertThat(index.services()).extracting(s -> s.hostname()).containsExactly(RATINGS, REVIEWS);
    assertThat(index.hostInstances(List.of("10.1.0.2", "10.9.9.9"))).extracting(x -> x.service().hostname())
        .containsExactly(REVIEWS);
  }

  @Test
  void instancesFilterByPortName() {
    index.putService(service("default", "reviews", "10.0.0.3", port("http", 9080), port("grpc", 7070)), events);
    index.putEndpoints(endpoints("default", "reviews", new String[] {"10.1.0.1"}, "http", 9080, "grpc", 7070), events);
    assertThat(index.instances(REVIEWS, Set.of("grpc"), LabelsCollection.ALL)).extracting(i -> i.endpoint().port())
        .containsExactly(7070);
  }

  @Test
  void serviceAccountsAreInstancesUnionAnnotations() {
    var annotated = new ServiceBuilder(service("default", "reviews", "10.0.0.3", port("http", 9080)))
        .editMetadata().addToAnnotations(KubernetesConversion.KUBE_SERVICE_ACCOUNTS_ANNOTATION, "vm-reviews").endMetadata()
        .build();
    index.putService(annotated, events);
    assertThat(index.serviceAccounts(REVIEWS, Set.of())).containsExactly(
        "spiffe://cluster.local/ns/default/sa/bookinfo-reviews", "spiffe://cluster.local/ns/default/sa/vm-reviews");
    assertThat(index.serviceAccounts("nope.default.svc.cluster.local", Set.of())).isEmpty();
  }

  @Test
  void endpointChangeFiresInstancesEventForThatHostnameOnly() {
    index.putPod(pod("default", "reviews-v3", "10.1.0.5", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v3")), events);
    assertThat(events).isEmpty(); // no endpoint at that IP yet
    index.putEndpoints(endpoints("default", "reviews", new String[] {"10.1.0.1", "10.1.0.2", "10.1.0.5"}, "http", 9080), events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(index.instances(REVIEWS, Set.of(), LabelsCollection.of(Labels.of("version", "v3")))).hasSize(1);
  }

  @Test
  void unchangedEndpointsFireNothing() {
    index.putEndpoints(endpoints("default", "reviews", new String[] {"10.1.0.1", "10.1.0.2"}, "http", 9080), events);
    assertThat(events).isEmpty();
  }

  @Test
  void podLabelChangeUpdatesServicesAtItsIpOnly() {
    index.putPod(pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1b")), events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(index.hostInstances(List.of("10.1.0.1")).get(0).labels().asMap()).containsEntry("version", "v1b");
  }

  @Test
  void podStatusOnlyChangeFiresNothing() {
    Pod p = new PodBuilder(pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1")))
        .editStatus().addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build();
    index.putPod(p, events);
    assertThat(events).isEmpty();
  }

  @Test
  void finishedPodDoesNotLendItsLabels() {
    Pod done = new PodBuilder(pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1")))
        .editStatus().withPhase("Succeeded").endStatus().build();
    index.putPod(done, events);
    assertThat(index.hostInstances(List.of("10.1.0.1")).get(0).labels()).isEqualTo(Labels.EMPTY);
  }

  @Test
  void nodeZoneChangeUpdatesServicesOfItsPods() {
    index.putNode(node("node-b", zoneLabels("eu", "eu-a")), events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.UPDATE, RATINGS));
    assertThat(index.instances(RATINGS, Set.of(), LabelsCollection.ALL).get(0).availabilityZone()).isEqualTo("eu/eu-a");
    events.clear();
    index.removeNode("node-b", events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.UPDATE, RATINGS));
    assertThat(index.instances(RATINGS, Set.of(), LabelsCollection.ALL).get(0).availabilityZone()).isNull();
  }

  @Test
  void serviceUpdateFiresServiceEventAndKeepsInstancesInStep() {
    index.putService(service("default", "reviews", "10.0.0.30", port("http", 9080)), events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.SERVICE, EventType.UPDATE, REVIEWS));
    assertThat(index.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).allSatisfy(
        i -> assertThat(i.service().address()).isEqualTo("10.0.0.30"));
  }

  @Test
  void renamingAServicePortDropsInstancesWhosePortNoLongerMatches() {
    index.putService(service("default", "reviews", "10.0.0.3", port("http-new", 9080)), events);
    assertThat(events).containsExactly(
        new RegistryEvent("test", Kind.SERVICE, EventType.UPDATE, REVIEWS),
        new RegistryEvent("test", Kind.INSTANCES, EventType.DELETE, REVIEWS));
    assertThat(index.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).isEmpty();
  }

  @Test
  void deletingServiceRemovesItAndItsInstances() {
    index.removeService("default/reviews", events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.SERVICE, EventType.DELETE, REVIEWS));
    assertThat(index.service(REVIEWS)).isEmpty();
    assertThat(index.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).isEmpty();
    assertThat(index.hostInstances(List.of("10.1.0.1", "10.1.0.2"))).isEmpty();
    // Endpoints stay known: the service coming back finds its instances again.
    events.clear();
    index.putService(service("default", "reviews", "10.0.0.3", port("http", 9080)), events);
    assertThat(events).containsExactly(
        new RegistryEvent("test", Kind.SERVICE, EventType.ADD, REVIEWS),
        new RegistryEvent("test", Kind.INSTANCES, EventType.ADD, REVIEWS));
  }

  @Test
  void deletingEndpointsFiresInstancesDelete() {
    index.removeEndpoints("default/ratings", events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.DELETE, RATINGS));
    assertThat(index.hostInstances(List.of("10.1.0.3"))).isEmpty();
  }

  @Test
  void podDeleteAndIpMoveRelabel() {
    index.removePod("default/reviews-v2", events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(index.hostInstances(List.of("10.1.0.2")).get(0).labels()).isEqualTo(Labels.EMPTY);
  }

  @Test
  void kubeSystemIsIgnored() {
    index.putService(service("kube-system", "kube-dns", "10.0.0.10", port("dns", 53)), events);
    index.putEndpoints(endpoints("kube-system", "kube-dns", new String[] {"10.1.9.9"}, "dns", 53), events);
    assertThat(events).isEmpty();
    assertThat(index.service("kube-dns.kube-system.svc.cluster.local")).isEmpty();
  }

  @Test
  void invalidServiceIsSkippedAndAnEarlierGoodOneRemoved() {
    index.putService(service("default", "ratings", "10.0.0.4", port("http", 9080), port("http", 9081)), events);
    assertThat(events).containsExactly(new RegistryEvent("test", Kind.SERVICE, EventType.DELETE, RATINGS));
    assertThat(index.service(RATINGS)).isEmpty();
  }

  @Test
  void managementPortsByPodIp() {
    Pod p = new PodBuilder(pod("default", "reviews-v1", "10.1.0.1", "node-a", "bookinfo-reviews", Map.of("app", "reviews", "version", "v1")))
        .editSpec().withContainers(new ContainerBuilder().withName("app")
            .withReadinessProbe(new ProbeBuilder().withNewHttpGet().withPort(new IntOrString(9081)).endHttpGet().build())
            .build()).endSpec().build();
    index.putPod(p, events);
    assertThat(index.managementPorts("10.1.0.1")).containsExactly(new Port("mgmt-9081", 9081, Protocol.HTTP));
    assertThat(index.managementPorts("10.1.0.2")).isEmpty();
    index.removePod("default/reviews-v1", events);
    assertThat(index.managementPorts("10.1.0.1")).isEmpty();
  }
}
