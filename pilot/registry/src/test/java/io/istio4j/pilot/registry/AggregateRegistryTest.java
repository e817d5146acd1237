package io.istio4j.pilot.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.MemoryServiceRegistry;
import io.istio4j.pilot.model.NetworkEndpoint;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import io.istio4j.pilot.model.ServiceInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AggregateRegistryTest {
  private static final Port HTTP = new Port("http", 9080, Protocol.HTTP);

  private static ServiceInstance instance(Service s, String ip, String sa) {
    return new ServiceInstance(new NetworkEndpoint(ip, 9080, HTTP), s, Labels.of("version", "v1"), null, sa);
  }

  @Test
  void aHostnameBelongsToTheFirstRegistryThatHasItsService() {
    MemoryServiceRegistry a = new MemoryServiceRegistry("a");
    MemoryServiceRegistry b = new MemoryServiceRegistry("b");
    Service reviewsA = Service.of("reviews.default.svc.cluster.local", "10.0.0.3", List.of(HTTP));
    Service reviewsB = Service.of("reviews.default.svc.cluster.local", "10.9.0.3", List.of(HTTP));
    Service ratingsB = Service.of("ratings.default.svc.cluster.local", "10.9.0.4", List.of(HTTP));
    a.putService(reviewsA);
    b.putService(reviewsB);
    b.putService(ratingsB);
    b.setInstances("reviews.default.svc.cluster.local", List.of(instance(reviewsB, "10.2.0.1", "spiffe://b/sa")));
    b.setInstances("ratings.default.svc.cluster.local", List.of(instance(ratingsB, "10.1.0.1", "spiffe://b/ratings")));
    a.setInstances("reviews.default.svc.cluster.local", List.of());
    AggregateRegistry all = new AggregateRegistry(List.of(a, b));

    // One service namespace: each hostname once, from the first registry that has it.
    assertThat(all.services()).containsExactly(reviewsA, ratingsB);
    assertThat(all.service("reviews.default.svc.cluster.local")).contains(reviewsA);
    assertThat(all.service("ratings.default.svc.cluster.local")).contains(ratingsB);
    // Its instances too: a's (none), never b's endpoints under a's service (0.2 mixed them).
    assertThat(all.instances("reviews.default.svc.cluster.local", Set.of(), LabelsCollection.ALL)).isEmpty();
    assertThat(all.conflicts()).containsExactly(
        new AggregateRegistry.Conflict("reviews.default.svc.cluster.local", "a", List.of("b")));
    // Host instances concatenated, without those of shadowed services.
    a.setInstances("reviews.default.svc.cluster.local", List.of(instance(reviewsA, "10.1.0.1", "spiffe://a/sa")));
    assertThat(all.instances("reviews.default.svc.cluster.local", Set.of(), LabelsCollection.ALL))
        .extracting(i -> i.endpoint().address()).containsExactly("10.1.0.1");
    assertThat(all.hostInstances(List.of("10.1.0.1", "10.2.0.1"))).extracting(i -> i.service().address())
        .containsExactly("10.0.0.3", "10.9.0.4");
    // Service accounts: the owner's.
    assertThat(all.serviceAccounts("reviews.default.svc.cluster.local", Set.of())).containsExactly("spiffe://a/sa");
    assertThat(all.serviceAccounts("ratings.default.svc.cluster.local", Set.of())).containsExactly("spiffe://b/ratings");
    assertThat(all.managementPorts("10.1.0.1")).isEmpty();
    assertThat(all.name()).isEqualTo("aggregate[a,b]");

    // The first registry drops it: the second one's service takes over, and the conflict is gone.
    a.removeService("reviews.default.svc.cluster.local");
    assertThat(all.service("reviews.default.svc.cluster.local")).contains(reviewsB);
    assertThat(all.instances("reviews.default.svc.cluster.local", Set.of(), LabelsCollection.ALL))
        .extracting(i -> i.endpoint().address()).containsExactly("10.2.0.1");
    assertThat(all.conflicts()).isEmpty();
  }

  @Test
  void reportsEveryConflictWithItsWinnerInItsStatus() {
    MemoryServiceRegistry k8s = new MemoryServiceRegistry("Kubernetes");
    MemoryServiceRegistry consul = new MemoryServiceRegistry("consul:127.0.0.1:8500");
    MemoryServiceRegistry eureka = new MemoryServiceRegistry("eureka:127.0.0.1:8761");
    for (MemoryServiceRegistry r : List.of(k8s, consul, eureka)) {
      r.putService(Service.of("shared.example.com", null, List.of(HTTP)));
    }
    consul.putService(Service.of("db.service.consul", null, List.of(HTTP)));
    eureka.putService(Service.of("db.service.consul", null, List.of(HTTP)));
    AggregateRegistry all = new AggregateRegistry(List.of(k8s, consul, eureka));
    assertThat(all.conflicts()).containsExactly(
        new AggregateRegistry.Conflict("db.service.consul", "consul:127.0.0.1:8500", List.of("eureka:127.0.0.1:8761")),
        new AggregateRegistry.Conflict("shared.example.com", "Kubernetes",
            List.of("consul:127.0.0.1:8500", "eureka:127.0.0.1:8761")));
    assertThat(all.services()).hasSize(2);
    assertThat(all.status().get("conflicts")).isEqualTo(List.of(
        Map.of("hostname", "db.service.consul", "winner", "consul:127.0.0.1:8500",
            "shadowed", List.of("eureka:127.0.0.1:8761")),
        Map.of("hostname", "shared.example.com", "winner", "Kubernetes",
            "shadowed", List.of("consul:127.0.0.1:8500", "eureka:127.0.0.1:8761"))));
  }

  @Test
  void forwardsEventsAndIsSyncedWhenAllAre() {
    MemoryServiceRegistry a = new MemoryServiceRegistry("a");
    MemoryServiceRegistry b = new MemoryServiceRegistry("b");
    AggregateRegistry all = new AggregateRegistry(List.of(a, b));
    List<RegistryEvent> events = new ArrayList<>();
    all.addListener(events::add);
    assertThat(all.hasSynced()).isFalse();
    a.start();
    assertThat(all.hasSynced()).isFalse();
    all.start();
    assertThat(all.hasSynced()).isTrue();
    b.putService(Service.of("x.default.svc.cluster.local", null, List.of(HTTP)));
    assertThat(events).containsExactly(
        new RegistryEvent("b", RegistryEvent.Kind.SERVICE, EventType.ADD, "x.default.svc.cluster.local"));
    all.addListener(e -> {
      throw new IllegalStateException("a broken listener must not stop the others");
    });
    all.addListener(events::add);
    a.removeService("nope");
    a.putService(Service.of("y.default.svc.cluster.local", null, List.of(HTTP)));
    assertThat(events).hasSize(3);
  }

  @Test
  void debugViewListsEveryServiceWithItsInstancesPerRegistry() {
    MemoryServiceRegistry a = new MemoryServiceRegistry("a");
    Service reviews = new Service("reviews.default.svc.cluster.local", "10.0.0.3", List.of(HTTP), null,
        List.of("spiffe://x"), false);
    a.putService(reviews);
    a.setInstances(reviews.hostname(), List.of(instance(reviews, "10.1.0.1", "spiffe://a/sa")));
    AggregateRegistry all = new AggregateRegistry(List.of(a));
    List<Map<String, Object>> view = all.debugView();
    assertThat(view).hasSize(1);
    assertThat(view.get(0)).containsEntry("name", "a").containsEntry("synced", false);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> services = (List<Map<String, Object>>) view.get(0).get("services");
    assertThat(services.get(0)).containsEntry("hostname", "reviews.default.svc.cluster.local")
        .containsEntry("address", "10.0.0.3")
        .containsEntry("ports", List.of(Map.of("name", "http", "port", 9080, "protocol", "HTTP")))
        .containsEntry("serviceAccounts", List.of("spiffe://x"))
        .containsEntry("instances", List.of(Map.of("address", "10.1.0.1", "port", 9080, "portName", "http",
            "labels", Map.of("version", "v1"), "serviceAccount", "spiffe://a/sa")));
  }
}
