package io.istio4j.pilot.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.istio4j.pilot.config.v1.RouteRule;
import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FsConfigStoreTest {
  @TempDir Path dir;
  private final List<ConfigEvent> events = Collections.synchronizedList(new ArrayList<>());
  private FsConfigStore store;

  private FsConfigStore store() {
    store = new FsConfigStore(dir, new ConfigParser(), Duration.ofSeconds(1));
    store.addListener(events::add);
    return store;
  }

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  static String rule(String name, int weightV1) {
    return """
        apiVersion: config.istio.io/v1alpha2
        kind: RouteRule
        metadata: {name: %s}
        spec:
          destination: {name: reviews}
          route:
          - {labels: {version: v1}, weight: %d}
          - {labels: {version: v2}, weight: %d}
        """.formatted(name, weightV1, 100 - weightV1);
  }

  /** Two polls: a file is used once it looks the same twice. */
  private void settle() throws IOException {
    store.poll();
    store.poll();
  }

  private int weightV1(String name) {
    return store.get(ConfigKind.ROUTE_RULE, name, "default").orElseThrow().spec(RouteRule.class).getRoute(0).getWeight();
  }

  private List<String> eventList() {
    List<String> out = new ArrayList<>();
    for (ConfigEvent e : events) {
      out.add(e.type() + " " + e.config().key());
    }
    events.clear();
    return out;
  }

  @Test
  void loadsFilesAndTellsListeners() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    Files.writeString(dir.resolve("c.json"), "{\"kind\": \"EgressRule\", \"metadata\": {\"name\": \"g\"}, "
        + "\"spec\": {\"destination\": {\"service\": \"*.google.com\"}, \"ports\": [{\"port\": 443, \"protocol\": \"https\"}]}}");
    store();
    store.poll();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).isEmpty(); // seen once: not yet stable
    store.poll();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a", "ADD route-rule/default/b",
        "ADD egress-rule/default/g");
    assertThat(store.list(ConfigKind.ROUTE_RULE, "default")).extracting(Config::key)
        .containsExactly("route-rule/default/a", "route-rule/default/b");
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe).containsExactly(
        "egress-rule/default/g (c.json:1): VALID", "route-rule/default/a (a.yaml:1): VALID",
        "route-rule/default/b (a.yaml:10): VALID");
  }

  @Test
  void editFiresOnlyForRealChanges() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    store();
    settle();
    eventList();
    String version = store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow().meta().resourceVersion();

    // same objects, different text (a comment, another order): nothing to tell
    Files.writeString(dir.resolve("a.yaml"), "# reordered\n" + rule("b", 10) + "---\n" + rule("a", 50));
    settle();
    assertThat(eventList()).isEmpty();
    assertThat(store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow().meta().resourceVersion()).isEqualTo(version);

    Files.writeString(dir.resolve("a.yaml"), rule("b", 10) + "---\n" + rule("a", 80));
    settle();
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/a");
    assertThat(weightV1("a")).isEqualTo(80);
    assertThat(store.get(ConfigKind.ROUTE_RULE, "a", "default").orElseThrow().meta().resourceVersion())
        .isNotEqualTo(version);
  }

  @Test
  void badEditKeepsTheLastValidVersion() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    store();
    settle();
    eventList();

    Files.writeString(dir.resolve("a.yaml"), rule("a", 150) + "---\n" + rule("b", 20));
    settle();
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/b");
    assertThat(weightV1("a")).isEqualTo(50);
    ConfigObjectStatus a = store.statuses().stream().filter(s -> s.key().equals("route-rule/default/a")).findFirst()
        .orElseThrow();
    assertThat(a.state()).isEqualTo(ConfigObjectStatus.State.STALE);
    assertThat(a.errors()).contains("a.yaml:1: route-rule default/a: spec.route[0].weight: 150 must be in range 0..100");
    assertThat(a.liveSource()).isEqualTo("a.yaml:1");

    Files.writeString(dir.resolve("a.yaml"), rule("a", 70) + "---\n" + rule("b", 20));
    settle();
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/a");
    assertThat(weightV1("a")).isEqualTo(70);
    assertThat(store.statuses()).allMatch(s -> s.state() == ConfigObjectStatus.State.VALID);
  }

  @Test
  void unparsableFileKeepsEveryObjectItHeld() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    store();
    settle();
    eventList();

    Files.writeString(dir.resolve("a.yaml"), rule("a", 60) + "---\nkind: RouteRule\nmetadata: {name: b\n");
    settle();
    assertThat(eventList()).isEmpty();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).hasSize(2);
    assertThat(weightV1("a")).isEqualTo(50);
    assertThat(store.statuses()).extracting(ConfigObjectStatus::state).containsExactly(
        ConfigObjectStatus.State.REJECTED, ConfigObjectStatus.State.STALE, ConfigObjectStatus.State.STALE);
    assertThat(store.statuses().get(0).errors().get(0)).startsWith("a.yaml:12:1: not valid YAML");
  }

  @Test
  void newInvalidObjectIsRejectedAndNotServed() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 150) + "---\nkind: RouteRule\nspec: {}\n");
    store();
    settle();
    assertThat(eventList()).isEmpty();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).isEmpty();
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe).containsExactly(
        "a.yaml:10: REJECTED: a.yaml:10: route-rule (no metadata.name): metadata: required: a map with name (and "
            + "namespace); a.yaml:10: route-rule (no metadata.name): spec.destination: required: a route rule must "
            + "have a destination service",
        "route-rule/default/a (a.yaml:1): REJECTED: a.yaml:1: route-rule default/a: spec.route[0].weight: 150 must be "
            + "in range 0..100; a.yaml:1: route-rule default/a: spec.route[1].weight: -50 must be in range 0..100");
  }

  @Test
  void deletedFileDeletesItsObjectsAfterTwoPolls() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    Files.writeString(dir.resolve("b.yaml"), rule("b", 50));
    store();
    settle();
    eventList();
    Files.delete(dir.resolve("a.yaml"));
    store.poll();
    assertThat(eventList()).isEmpty(); // gone once: perhaps mid-rename
    store.poll();
    assertThat(eventList()).containsExactly("DELETE route-rule/default/a");
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).extracting(Config::key).containsExactly("route-rule/default/b");
  }

  @Test
  void objectRemovedFromAFileIsDeleted() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    store();
    settle();
    eventList();
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    settle();
    assertThat(eventList()).containsExactly("DELETE route-rule/default/b");
  }

  @Test
  void objectMovedToAnotherFileFiresNothing() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + "---\n" + rule("b", 10));
    store();
    settle();
    eventList();
    Files.writeString(dir.resolve("b.yaml"), rule("b", 10));
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    settle();
    assertThat(eventList()).isEmpty();
    assertThat(store.statuses()).extracting(ConfigObjectStatus::source).containsExactly("a.yaml:1", "b.yaml:1");
  }

  @Test
  void fileReplacedAtomicallyIsOneUpdate() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    store();
    settle();
    eventList();
    Path tmp = Files.writeString(dir.resolve(".a.yaml.tmp"), rule("a", 90));
    Files.move(tmp, dir.resolve("a.yaml"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    settle();
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/a");
    assertThat(weightV1("a")).isEqualTo(90);
  }

  @Test
  void fileStillBeingWrittenWaitsUntilItIsStable() throws IOException {
    store();
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50).substring(0, 40));
    store.poll();
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    store.poll();
    assertThat(eventList()).isEmpty(); // changed between the two polls: not used yet
    assertThat(store.statuses()).isEmpty(); // and its half-written state was never reported
    store.poll();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
  }

  @Test
  void kubeletConfigMapLayoutIsReadOnceAndFollowsTheSwap() throws IOException {
    Path v1 = Files.createDirectory(dir.resolve("..2026_12_03_10_00_00.1"));
    Files.writeString(v1.resolve("rules.yaml"), rule("a", 50));
    Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
    Files.createSymbolicLink(dir.resolve("rules.yaml"), Path.of("..data/rules.yaml"));
    Files.writeString(dir.resolve(".rules.yaml.swp"), "\0\0binary swap file");
    store();
    settle();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe)
        .containsExactly("route-rule/default/a (rules.yaml:1): VALID");

    // kubelet's update: a new timestamped directory, then ..data swapped to it by rename
    Path v2 = Files.createDirectory(dir.resolve("..2026_12_03_10_05_00.2"));
    Files.writeString(v2.resolve("rules.yaml"), rule("a", 20));
    Path newLink = Files.createSymbolicLink(dir.resolve("..data_tmp"), v2.getFileName());
    Files.move(newLink, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    settle();
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/a");
    assertThat(weightV1("a")).isEqualTo(20);
  }

  @Test
  void hugeAndBinaryFilesAreRejectedAndTheRestLoads() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    byte[] huge = new byte[(int) ConfigParser.MAX_FILE_BYTES + 1];
    Arrays.fill(huge, (byte) '#');
    Files.write(dir.resolve("huge.yaml"), huge);
    byte[] binary = new byte[4096];
    new Random(1).nextBytes(binary);
    Files.write(dir.resolve("binary.yaml"), binary);
    store();
    settle();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe).containsExactly(
        "binary.yaml: REJECTED: binary.yaml: not a text file (it holds NUL bytes)",
        "huge.yaml: REJECTED: huge.yaml: too large: 8388609 bytes (expected: at most 8388608)",
        "route-rule/default/a (a.yaml:1): VALID");
  }

  @Test
  void duplicateObjectsUseTheFirstDefinition() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    Files.writeString(dir.resolve("b.yaml"), rule("a", 10));
    store();
    settle();
    assertThat(weightV1("a")).isEqualTo(50);
    assertThat(store.statuses()).extracting(ConfigObjectStatus::describe).containsExactly(
        "route-rule/default/a (a.yaml:1): VALID",
        "route-rule/default/a (b.yaml:1): REJECTED: route-rule default/a: defined again (first at a.yaml:1; that one is used)");
  }

  @Test
  void tenThousandObjectsLoad() throws IOException {
    for (int f = 0; f < 100; f++) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < 100; i++) {
        b.append(rule("r-" + f + "-" + i, i)).append("---\n");
      }
      Files.writeString(dir.resolve("rules-" + f + ".yaml"), b);
    }
    store();
    long start = System.nanoTime();
    settle();
    long loaded = System.nanoTime();
    store.poll(); // nothing changed: nothing re-read or re-parsed
    long idle = System.nanoTime();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "default")).hasSize(10_000);
    assertThat(events).hasSize(10_000);
    assertThat(store.statuses()).hasSize(10_000).allMatch(s -> s.state() == ConfigObjectStatus.State.VALID);
    System.out.printf("10,000 objects in 100 files: loaded in %d ms, an idle poll took %d ms%n",
        (loaded - start) / 1_000_000, (idle - loaded) / 1_000_000);
  }

  @Test
  void ingressRulesAndOtherKindsAreNotServed() throws IOException {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50) + """
        ---
        kind: IngressRule
        metadata: {name: world}
        spec: {destination: {name: world}, destinationPort: 80}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: reviews}
        """);
    store();
    settle();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
    assertThat(store.list(ConfigKind.INGRESS_RULE, "")).isEmpty();
    assertThat(store.statuses()).hasSize(1);
  }

  @Test
  void writesAreRefused() {
    store();
    Config c = new ConfigParser().parse("x", rule("a", 50)).documents().get(0).config();
    assertThatThrownBy(() -> store.create(c)).isInstanceOf(ConfigStoreException.class)
        .hasMessageContaining("route-rule/default/a: fs://").hasMessageContaining("is read-only");
    assertThatThrownBy(() -> store.delete(ConfigKind.ROUTE_RULE, "a", "default")).isInstanceOf(ConfigStoreException.class);
  }

  @Test
  void startLoadsInTheBackgroundAndSyncs() throws Exception {
    Files.writeString(dir.resolve("a.yaml"), rule("a", 50));
    store = new FsConfigStore(dir, new ConfigParser(), Duration.ofMillis(50), Duration.ofMillis(10));
    store.addListener(events::add);
    store.start();
    awaitSynced();
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
    Files.writeString(dir.resolve("a.yaml"), rule("a", 30));
    for (int i = 0; i < 2000 && events.isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(eventList()).containsExactly("UPDATE route-rule/default/a");
  }

  @Test
  void missingDirectorySyncsEmptyAndKeepsPolling() throws Exception {
    store = new FsConfigStore(dir.resolve("not-yet"), new ConfigParser(), Duration.ofMillis(50), Duration.ofMillis(10));
    store.addListener(events::add);
    store.start();
    awaitSynced();
    assertThat(store.list(ConfigKind.ROUTE_RULE, "")).isEmpty();
    Files.createDirectory(dir.resolve("not-yet"));
    Files.writeString(dir.resolve("not-yet/a.yaml"), rule("a", 30));
    for (int i = 0; i < 2000 && events.isEmpty(); i++) {
      Thread.sleep(10);
    }
    assertThat(eventList()).containsExactly("ADD route-rule/default/a");
  }

  private void awaitSynced() throws InterruptedException {
    for (int i = 0; i < 2000 && !store.hasSynced(); i++) {
      Thread.sleep(10);
    }
    assertThat(store.hasSynced()).isTrue();
  }

  static final String SHOP_INGRESS = """
      apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: shop, annotations: {kubernetes.io/ingress.class: istio}}
      spec:
        tls: [{hosts: [shop.example.com], secretName: shop-tls}]
        rules:
        - host: shop.example.com
          http:
            paths:
            - {path: /, pathType: Prefix, backend: {service: {name: front, port: {number: 80}}}}
      """;

  @Test
  void ingressesAreServedAsIngressRulesWithTheirTlsSecrets() throws IOException {
    String crt = IngressConversionTest.resource("bookinfo.crt");
    String key = IngressConversionTest.resource("bookinfo.key");
    Files.writeString(dir.resolve("ingress.yaml"), SHOP_INGRESS);
    Files.writeString(dir.resolve("secret.yaml"), IngressConversionTest.secretYaml("default", "shop-tls", crt, key));
    store();
    settle();
    assertThat(eventList()).containsExactly("ADD ingress-rule/default/shop-1-1");
    assertThat(store.tlsSecret("shop-tls.default")).hasValueSatisfying(s -> assertThat(s.certificateChain()).isEqualTo(crt));

    // A new certificate is an UPDATE of the rules using it; the rules themselves did not change.
    String otherCrt = IngressConversionTest.resource("other.crt");
    Files.writeString(dir.resolve("secret.yaml"),
        IngressConversionTest.secretYaml("default", "shop-tls", otherCrt, IngressConversionTest.resource("other.key")));
    settle();
    assertThat(eventList()).containsExactly("UPDATE ingress-rule/default/shop-1-1");
    assertThat(store.tlsSecret("shop-tls.default").orElseThrow().certificateChain()).isEqualTo(otherCrt);

    // A broken secret is refused (not kept): the proxy gets no certificate for the host, and the status says why.
    Files.writeString(dir.resolve("secret.yaml"),
        IngressConversionTest.secretYaml("default", "shop-tls", otherCrt, key));
    settle();
    assertThat(eventList()).containsExactly("UPDATE ingress-rule/default/shop-1-1");
    assertThat(store.tlsSecret("shop-tls.default")).isEmpty();
    assertThat(store.statuses()).anySatisfy(st -> {
      assertThat(st.key()).isEqualTo("secret/default/shop-tls");
      assertThat(st.state()).isEqualTo(ConfigObjectStatus.State.REJECTED);
      assertThat(st.errors()).anyMatch(e -> e.contains("TLS secret default/shop-tls cannot be served"));
    });

    Files.delete(dir.resolve("ingress.yaml"));
    settle();
    settle();
    assertThat(eventList()).containsExactly("DELETE ingress-rule/default/shop-1-1");
    assertThat(store.list(ConfigKind.INGRESS_RULE, "")).isEmpty();
  }
}
