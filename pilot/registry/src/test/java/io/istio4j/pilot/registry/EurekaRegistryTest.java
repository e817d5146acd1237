package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.FileRegistryTest.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.Service;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class EurekaRegistryTest {
  private static final String V2 = "/eureka/v2/apps";
  private static final Duration FAST = Duration.ofMillis(20);

  private final List<AutoCloseable> closing = new CopyOnWriteArrayList<>();
  private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
  }

  static String upstreamApps() throws IOException {
    try (InputStream in = EurekaRegistryTest.class.getResourceAsStream("/upstream-pilot/eureka/eureka-apps.json")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private FakeHttpServer server() throws IOException {
    FakeHttpServer s = new FakeHttpServer();
    closing.add(s);
    return s;
  }

  private EurekaRegistry registry(URI server, Duration timeout, Duration syncTimeout, long maxBytes) {
    EurekaRegistry r = new EurekaRegistry(new EurekaRegistry.Options(server, null, FAST, timeout, syncTimeout, maxBytes));
    closing.add(r);
    r.addListener(events::add);
    r.start();
    return r;
  }

  private EurekaRegistry registry(URI server) {
    return registry(server, Duration.ofSeconds(10), Duration.ZERO, 1 << 20);
  }

  private static RegistryEvent event(RegistryEvent.Kind kind, EventType type, String host, EurekaRegistry r) {
    return new RegistryEvent(r.name(), kind, type, host);
  }

  @Test
  void firesEventsOnlyForRealChanges() throws Exception {
    FakeHttpServer eureka = server();
    String apps = upstreamApps();
    eureka.reply(V2, FakeHttpServer.Reply.json(apps));
    EurekaRegistry r = registry(eureka.uri());
    await(r::hasSynced);
    assertThat(r.services()).extracting(Service::hostname).containsExactly("foo.bar.local", "foo.biz.local");
    assertThat(events).containsExactly(
        event(RegistryEvent.Kind.SERVICE, EventType.ADD, "foo.bar.local", r),
        event(RegistryEvent.Kind.INSTANCES, EventType.ADD, "foo.bar.local", r),
        event(RegistryEvent.Kind.SERVICE, EventType.ADD, "foo.biz.local", r),
        event(RegistryEvent.Kind.INSTANCES, EventType.ADD, "foo.biz.local", r));
    long polls = eureka.requests(V2);
    await(() -> eureka.requests(V2) >= polls + 5);
    assertThat(events).hasSize(4); // the same answer five times: nothing to tell

    // The second instance of foo.bar.local goes DOWN: its port 6000 leaves the service too.
    eureka.reply(V2, FakeHttpServer.Reply.json(apps.replaceFirst("(\"ipAddr\": \"10.0.0.2\",\\s*\"status\": )\"UP\"",
        "$1\"DOWN\"")));
    await(() -> events.size() == 6);
    assertThat(events.subList(4, 6)).containsExactly(
        event(RegistryEvent.Kind.SERVICE, EventType.UPDATE, "foo.bar.local", r),
        event(RegistryEvent.Kind.INSTANCES, EventType.UPDATE, "foo.bar.local", r));
    assertThat(r.service("foo.bar.local").orElseThrow().ports()).extracting(p -> p.port()).containsExactly(5000, 5443);
    assertThat(r.hostInstances(List.of("10.0.0.2"))).isEmpty();
    assertThat(r.hostInstances(List.of("10.0.0.3"))).singleElement()
        .satisfies(i -> assertThat(i.service().hostname()).isEqualTo("foo.biz.local"));

    eureka.reply(V2, FakeHttpServer.Reply.json("{\"applications\":{\"application\":[]}}"));
    await(() -> events.size() == 8);
    assertThat(events.subList(6, 8)).containsExactlyInAnyOrder(
        event(RegistryEvent.Kind.SERVICE, EventType.DELETE, "foo.bar.local", r),
        event(RegistryEvent.Kind.SERVICE, EventType.DELETE, "foo.biz.local", r));
    assertThat(r.services()).isEmpty();
    assertThat(r.status()).containsEntry("state", "OK").containsEntry("appsPath", V2);
  }

  @Test
  void detectsSpringCloudsAppsPathWhenTheNetflixOneIs404() throws Exception {
    FakeHttpServer eureka = server();
    eureka.reply("/eureka/apps", FakeHttpServer.Reply.json(upstreamApps()));
    EurekaRegistry r = registry(eureka.uri());
    await(r::hasSynced);
    assertThat(r.services()).hasSize(2);
    assertThat(r.status()).containsEntry("appsPath", "/eureka/apps");
    long v2 = eureka.requests(V2);
    await(() -> eureka.requests("/eureka/apps") > 5);
    assertThat(eureka.requests(V2)).isEqualTo(v2); // detected once, then kept
    assertThat(r.syncErrors()).isZero();
  }

  @Test
  void usesTheGivenPathAndReportsAServerThatIsNotEureka() throws Exception {
    FakeHttpServer eureka = server();
    eureka.reply("/custom/apps", FakeHttpServer.Reply.json(upstreamApps()));
    EurekaRegistry given = new EurekaRegistry(new EurekaRegistry.Options(eureka.uri(), "/custom", FAST,
        Duration.ofSeconds(10), Duration.ZERO, 1 << 20));
    closing.add(given);
    given.start();
    await(given::hasSynced);
    assertThat(given.name()).isEqualTo("eureka:127.0.0.1:" + eureka.port() + "/custom");

    FakeHttpServer notEureka = server();
    EurekaRegistry r = registry(notEureka.uri());
    await(() -> r.syncErrors() >= 2);
    assertThat(r.hasSynced()).isFalse();
    assertThat((String) r.status().get("lastError")).contains("HTTP 404 on every known path");
  }

  @Test
  void downAtStartBecomesSyncedOnTheFirstAnswer() throws Exception {
    FakeHttpServer eureka = server();
    eureka.reply(V2, FakeHttpServer.Reply.status(503));
    EurekaRegistry r = registry(eureka.uri());
    await(() -> r.syncErrors() >= 3);
    assertThat(r.hasSynced()).isFalse();
    assertThat(r.reachable()).isFalse();
    assertThat(r.status()).containsEntry("state", "SYNCING");
    assertThat((String) r.status().get("lastError")).contains("HTTP 503 (expected 200)");

    eureka.reply(V2, FakeHttpServer.Reply.json(upstreamApps()));
    await(r::hasSynced);
    assertThat(r.services()).hasSize(2);
    assertThat(r.reachable()).isTrue();
    assertThat(r.stalenessSeconds()).isZero();
  }

  @Test
  void unreachableAtStartReportsSyncedAfterTheSyncTimeoutWithAClearState() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed: nothing listens there
    }
    EurekaRegistry r = registry(URI.create("http://127.0.0.1:" + port), Duration.ofSeconds(5), Duration.ofMillis(200),
        1 << 20);
    await(r::hasSynced);
    assertThat(r.services()).isEmpty();
    assertThat(r.reachable()).isFalse();
    assertThat(r.lastSuccessfulSync()).isNull();
    assertThat(r.status()).containsEntry("state", "UNREACHABLE");
    assertThat((String) r.status().get("lastError")).contains("cannot connect");
  }

  @Test
  void keepsTheLastServicesWhileTheServerFailsInAnyWay() throws Exception {
    FakeHttpServer eureka = server();
    eureka.reply(V2, FakeHttpServer.Reply.json(upstreamApps()));
    EurekaRegistry r = registry(eureka.uri(), Duration.ofMillis(300), Duration.ZERO, 8192);
    await(r::hasSynced);
    int eventsAtSync = events.size();
    List<FakeHttpServer.Reply> failures = List.of(
        FakeHttpServer.Reply.status(500),
        FakeHttpServer.Reply.json("{\"applications\": {\"application\": [ {\"name\": "), // truncated
        FakeHttpServer.Reply.json("<html>maintenance</html>"),
        FakeHttpServer.Reply.json("{\"apps\": []}"),
        FakeHttpServer.Reply.json("{\"applications\": {\"application\": [" + "{},".repeat(5000) + "{}]}}"),
        new FakeHttpServer.Reply(200, ("[" + "{},".repeat(5000) + "{}]").getBytes(StandardCharsets.UTF_8), 0, true),
        new FakeHttpServer.Reply(200, upstreamApps().getBytes(StandardCharsets.UTF_8), 5_000));
    List<String> expected = List.of("HTTP 500", "the body is not JSON", "the body is not JSON",
        "no \"applications\" object", "bytes (expected: at most 8192)", "more than 8192 bytes", "no complete answer within the timeout");
    for (int i = 0; i < failures.size(); i++) {
      long before = r.syncErrors();
      eureka.reply(V2, failures.get(i));
      await(() -> r.syncErrors() >= before + 2);
      assertThat((String) r.status().get("lastError")).contains(expected.get(i));
      assertThat(r.services()).hasSize(2);
      assertThat(r.reachable()).isFalse();
      assertThat(r.status()).containsEntry("state", "STALE");
    }
    await(() -> r.stalenessSeconds() > 0);
    assertThat(events).hasSize(eventsAtSync);

    eureka.reply(V2, FakeHttpServer.Reply.json(upstreamApps()));
    await(r::reachable);
    assertThat(r.stalenessSeconds()).isZero();
    assertThat(r.status()).containsEntry("state", "OK");
    assertThat(events).hasSize(eventsAtSync);
  }
}
