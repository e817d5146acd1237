package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.FileRegistryTest.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The Consul registry against {@link FakeConsul}, a fake of Consul's HTTP API with its blocking-query
 * semantics (no Consul binary can be installed here).
 */
class ConsulRegistryTest {
  private static final String REVIEWS = "reviews.service.consul";

  private final List<AutoCloseable> closing = new CopyOnWriteArrayList<>();
  private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private FakeConsul consul() throws Exception {
    FakeConsul c = new FakeConsul();
    closing.add(c);
    return c;
  }

  private ConsulRegistry registry(URI server, boolean health, Duration syncTimeout, long maxBytes) {
    ConsulRegistry r = new ConsulRegistry(new ConsulRegistry.Options(server, health, Duration.ofMinutes(5),
        Duration.ofSeconds(5), Duration.ZERO, Duration.ofMillis(20), Duration.ofMillis(100), syncTimeout, maxBytes));
    closing.add(r);
    r.addListener(events::add);
    r.start();
    return r;
  }

  private ConsulRegistry registry(URI server) {
    return registry(server, true, Duration.ZERO, 1 << 20);
  }

  private static FakeConsul.Instance instance(String node, String ip, Map<String, String> meta, String id,
      String address, int port, String... tags) {
    return new FakeConsul.Instance(node, ip, meta, id, address, port, List.of(tags), "passing");
  }

  private static RegistryEvent event(ConsulRegistry r, RegistryEvent.Kind kind, EventType type, String host) {
    return new RegistryEvent(r.name(), kind, type, host);
  }

  private static List<String> endpoints(ConsulRegistry r, String host) {
    return r.instances(host, Set.of(), LabelsCollection.ALL).stream()
        .map(i -> i.endpoint().address() + ":" + i.endpoint().port() + " " + i.endpoint().servicePort().name() + " "
            + i.labels())
        .toList();
  }

  @Test
  void convertsAsIstio02() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of("protocol", "http"), "reviews-v1", "172.17.0.2",
        9080, "version|v1", "ignored-tag"));
    consul.register("reviews", instance("node-2", "10.0.0.2", Map.of(), "reviews-v2", "", 9080, "version|v2"));
    consul.register("ratings", instance("node-3", "10.0.0.3", Map.of("protocol", "grpc"), "ratings-1", "", 9090));
    consul.register("ratings", instance("node-3", "10.0.0.3", Map.of("protocol", "grpc"), "ratings-2", "", 9091));
    consul.register("db", instance("node-4", "10.0.0.4", Map.of("protocol", "thrift", "external", "db.example.com"),
        "db-1", "", 5432));
    ConsulRegistry r = registry(consul.uri());
    await(r::hasSynced);
    assertThat(r.services()).extracting(Service::hostname).containsExactly("consul.service.consul",
        "db.service.consul", "ratings.service.consul", REVIEWS);
    // The node's protocol meta names the port; none is http; unknown is TCP under its own name.
    assertThat(r.service(REVIEWS).orElseThrow().ports()).containsExactly(new Port("http", 9080, Protocol.HTTP));
    assertThat(r.service("ratings.service.consul").orElseThrow().ports())
        .containsExactly(new Port("grpc", 9090, Protocol.GRPC), new Port("grpc-9091", 9091, Protocol.GRPC));
    Service db = r.service("db.service.consul").orElseThrow();
    assertThat(db.ports()).containsExactly(new Port("thrift", 5432, Protocol.TCP));
    assertThat(db.externalName()).isEqualTo("db.example.com");
    // ServiceAddress, else the node's; key|value tags as labels.
    assertThat(endpoints(r, REVIEWS)).containsExactly("10.0.0.2:9080 http version=v2", "172.17.0.2:9080 http version=v1");
    assertThat(r.instances(REVIEWS, Set.of("http"), LabelsCollection.of(Labels.of("version", "v1")))).hasSize(1);
    assertThat(r.hostInstances(List.of("10.0.0.3"))).hasSize(2);
    assertThat(r.status().get("skipped")).isEqualTo(List.of("service reviews: tag 'ignored-tag' ignored (expected key|value)"));
  }

  @Test
  void blocksWhileIdleAndWakesOnlyTheWatchesOfWhatChanged() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080, "version|v1"));
    consul.register("ratings", instance("node-2", "10.0.0.2", Map.of(), "ratings-1", "", 9080));
    ConsulRegistry r = registry(consul.uri());
    await(r::hasSynced);
    // Three watches (catalog, consul, ratings, reviews => 4): each one non-blocking read, then held.
    await(() -> consul.parked() == 4);
    assertThat(consul.requests()).isEqualTo(8);
    assertThat(r.requests()).isEqualTo(8);
    int eventsAtSync = events.size();

    // The waits pass with nothing changed: one request per watch, nothing read, no event.
    for (int round = 1; round <= 3; round++) {
      consul.expireWaits();
      long expected = 8 + 4L * round;
      await(() -> consul.requests() == expected && consul.parked() == 4);
    }
    assertThat(events).hasSize(eventsAtSync);

    // One instance changes: the catalog watch and that service's watch answer, nobody else.
    consul.register("reviews", instance("node-9", "10.0.0.9", Map.of(), "reviews-2", "", 9080, "version|v2"));
    await(() -> events.size() == eventsAtSync + 1 && consul.parked() == 4);
    assertThat(events.get(eventsAtSync)).isEqualTo(event(r, RegistryEvent.Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(consul.requests()).isEqualTo(8 + 12 + 2);
    assertThat(consul.requests("/v1/health/service/ratings")).isEqualTo(5);
    assertThat(endpoints(r, REVIEWS)).hasSize(2);

    // A service leaves the catalog: deleted, its watch stopped.
    consul.deregister("ratings", "ratings-1");
    await(() -> r.service("ratings.service.consul").isEmpty());
    assertThat(events).contains(event(r, RegistryEvent.Kind.SERVICE, EventType.DELETE, "ratings.service.consul"));
    assertThat(r.status()).containsEntry("watches", 3);
  }

  @Test
  void dropsCriticalInstancesWithHealthAndKeepsThemWithTheCatalog() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080));
    consul.register("reviews", instance("node-2", "10.0.0.2", Map.of(), "reviews-2", "", 9080));
    ConsulRegistry health = registry(consul.uri());
    ConsulRegistry catalog = registry(consul.uri(), false, Duration.ZERO, 1 << 20);
    await(() -> health.hasSynced() && catalog.hasSynced());
    int before = events.size();
    consul.check("reviews", "reviews-2", "warning");
    consul.check("reviews", "reviews-2", "critical");
    await(() -> endpoints(health, REVIEWS).size() == 1);
    assertThat(endpoints(health, REVIEWS)).containsExactly("10.0.0.1:9080 http ");
    // A health flap changes instances, not the service.
    assertThat(events.subList(before, events.size())).allSatisfy(e -> assertThat(e.kind()).isEqualTo(RegistryEvent.Kind.INSTANCES));
    assertThat(endpoints(catalog, REVIEWS)).hasSize(2);
    consul.check("reviews", "reviews-2", "passing");
    await(() -> endpoints(health, REVIEWS).size() == 2);
  }

  @Test
  void startsAfreshWhenTheIndexGoesBackwards() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080));
    for (int i = 0; i < 50; i++) {
      consul.register("churn", instance("node-1", "10.0.0.1", Map.of(), "churn", "", 1000 + i));
    }
    ConsulRegistry r = registry(consul.uri());
    await(() -> r.hasSynced() && consul.parked() == 4);
    // A restored snapshot: the data differ and the index drops from ~60 to 3.
    long before = consul.requests();
    consul.restore(3, () -> {
      consul.deregister("reviews", "reviews-1");
      consul.register("reviews", instance("node-7", "10.0.0.7", Map.of(), "reviews-7", "", 9080));
    });
    await(() -> endpoints(r, REVIEWS).equals(List.of("10.0.0.7:9080 http ")) && consul.parked() == 4);
    assertThat((long) r.status().get("indexResets")).isPositive();
    // Each watch: the answer with the lower index, one fresh read, then held again.
    assertThat(consul.requests() - before).isLessThanOrEqualTo(12);
    // And it keeps following changes at the new, lower index.
    consul.register("reviews", instance("node-8", "10.0.0.8", Map.of(), "reviews-8", "", 9080));
    await(() -> endpoints(r, REVIEWS).size() == 2);
  }

  @Test
  void unreachableAtStartIsSyncedAfterTheTimeoutAndFollowsOnceTheServerComes() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ConsulRegistry r = registry(URI.create("http://127.0.0.1:" + port), true, Duration.ofMillis(200), 1 << 20);
    await(r::hasSynced);
    assertThat(r.status()).containsEntry("state", "UNREACHABLE");
    assertThat(r.services()).isEmpty();
    FakeConsul late = new FakeConsul(port);
    closing.add(0, late);
    late.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080));
    await(() -> r.service(REVIEWS).isPresent());
    assertThat(r.status()).containsEntry("state", "OK");
    assertThat(r.reachable()).isTrue();
  }

  @Test
  void keepsItsViewWhenAnswersAreBadAndBacksOff() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080));
    ConsulRegistry r = registry(consul.uri(), true, Duration.ZERO, 4096);
    await(() -> r.hasSynced() && consul.parked() == 3);
    int eventsAtSync = events.size();
    String path = "/v1/catalog/services";
    List<FakeConsul.CannedReply> bad = List.of(
        new FakeConsul.CannedReply(500, "rpc error: No cluster leader", 1000),
        new FakeConsul.CannedReply(200, "{\"reviews\": [", 1001),
        new FakeConsul.CannedReply(200, "[\"not\", \"an\", \"object\"]", 1002),
        new FakeConsul.CannedReply(200, "{}", -1),
        new FakeConsul.CannedReply(200, "{\"x\": [\"" + "a".repeat(5000) + "\"]}", 1003));
    List<String> expected = List.of("HTTP 500", "the body is not JSON", "expected a JSON object",
        "no valid X-Consul-Index", "bytes (expected: at most 4096)");
    for (int i = 0; i < bad.size(); i++) {
      long errors = r.syncErrors();
      consul.override(path, bad.get(i));
      await(() -> r.syncErrors() >= errors + 2);
      assertThat((String) r.status().get("lastError")).contains(expected.get(i));
      assertThat(r.service(REVIEWS)).isPresent();
      assertThat(r.status()).containsEntry("state", "STALE");
    }
    assertThat(events).hasSize(eventsAtSync);
    // Back to the real data: after a failure the watch reads without blocking, so it is seen at once.
    consul.override(path, null);
    await(() -> r.reachable() && consul.parked() == 3);
    assertThat(r.service(REVIEWS)).isPresent();
    assertThat(events).hasSize(eventsAtSync);
  }

  @Test
  void backsOffFromAServerThatAnswersAtOnceWithTheSameIndex() throws Exception {
    FakeConsul consul = consul();
    ConsulRegistry r = registry(consul.uri());
    await(() -> r.hasSynced() && consul.parked() == 2);
    long before = consul.requests("/v1/catalog/services");
    // A broken proxy in front of Consul: answers every blocking query at once, index unchanged.
    consul.override("/v1/catalog/services", new FakeConsul.CannedReply(200, "{\"consul\": []}", 11));
    await(() -> consul.requests("/v1/catalog/services") >= before + 4);
    // The early answers back off like failures (20ms doubling to 100ms here), so the rate stays low:
    // the registry does not spin, and it does not count the answers as errors.
    Thread.sleep(1000);
    assertThat(consul.requests("/v1/catalog/services") - before).isLessThan(40);
    assertThat(r.syncErrors()).isZero();
    assertThat(r.reachable()).isTrue();
  }

  @Test
  void aSlowServerTimesOutAndTheViewIsKept() throws Exception {
    FakeConsul consul = consul();
    consul.register("reviews", instance("node-1", "10.0.0.1", Map.of(), "reviews-1", "", 9080));
    ConsulRegistry r = new ConsulRegistry(new ConsulRegistry.Options(consul.uri(), true, Duration.ofMinutes(5),
        Duration.ofMillis(300), Duration.ZERO, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ZERO, 1 << 20));
    closing.add(r);
    r.start();
    await(() -> r.hasSynced() && r.reachable());
    // Every answer of the catalog now takes 5 s: after the first failure (the held request is
    // answered at once with a 500) each non-blocking retry times out after 300 ms.
    consul.override("/v1/catalog/services", new FakeConsul.CannedReply(500, "slow", 1000));
    await(() -> !r.reachable());
    consul.override("/v1/catalog/services", new FakeConsul.CannedReply(200, "{}", 1001, 5_000));
    await(() -> String.valueOf(r.status().get("lastError")).contains("no complete answer within the timeout"));
    assertThat(r.service(REVIEWS)).isPresent();
    consul.override("/v1/catalog/services", null);
    await(r::reachable);
    assertThat(r.service(REVIEWS)).isPresent();
  }
}
