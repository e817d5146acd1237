package io.istio4j.pilot.registry;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.pilot.model.EventType;
import io.istio4j.pilot.model.Labels;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.Port;
import io.istio4j.pilot.model.Protocol;
import io.istio4j.pilot.model.RegistryEvent;
import io.istio4j.pilot.model.RegistryEvent.Kind;
import io.istio4j.pilot.model.ServiceInstance;
import io.istio4j.pilot.registry.FileRegistry.FileState;
import io.istio4j.pilot.registry.FileRegistry.FileStatus;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileRegistryTest {
  private static final String REVIEWS = "reviews.default.svc.cluster.local";
  private static final String RATINGS = "ratings.default.svc.cluster.local";

  @TempDir Path dir;

  private FileRegistry registry;
  private final List<RegistryEvent> events = new CopyOnWriteArrayList<>();

  @AfterEach
  void close() {
    if (registry != null) {
      registry.close();
    }
  }

  private FileRegistry open(Path root, long maxBytes) {
    registry = new FileRegistry(new FileRegistry.Options(root, "cluster.local", Duration.ofMillis(50), maxBytes));
    registry.addListener(events::add);
    return registry;
  }

  private FileRegistry open() {
    return open(dir, FileRegistry.Options.DEFAULT_MAX_FILE_BYTES);
  }

  static Path bookinfo() throws URISyntaxException {
    return Path.of(FileRegistryTest.class.getResource("/bookinfo/services.yaml").toURI()).getParent();
  }

  private void copyBookinfo(Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(bookinfo())) {
      for (Path p : s.toList()) {
        Path copy = to.resolve(p.getFileName().toString());
        Files.copy(p, copy, StandardCopyOption.REPLACE_EXISTING);
        // Files that exist when the registry starts, not files being written.
        Files.setLastModifiedTime(copy, FileTime.from(Instant.now().minusSeconds(3600)));
      }
    }
  }

  // A freshly written file is read at the third poll: seen, same stat, same hash.
  private void polls(int n) {
    for (int i = 0; i < n; i++) {
      registry.poll();
    }
  }

  private FileStatus status(String path) {
    return registry.fileStatus().stream().filter(s -> s.path().equals(path)).findFirst().orElseThrow();
  }

  private static void write(Path p, String content) throws IOException {
    Files.writeString(p, content, StandardCharsets.UTF_8);
  }

  @Test
  void loadsTheBookinfoExample() throws Exception {
    copyBookinfo(dir);
    open().start();
    await(registry::hasSynced);
    assertThat(registry.services()).extracting(s -> s.hostname()).containsExactly(
        "details.default.svc.cluster.local", "mongodb.default.svc.cluster.local",
        "productpage.default.svc.cluster.local", RATINGS, REVIEWS);
    List<ServiceInstance> reviews = registry.instances(REVIEWS, Set.of("http"), LabelsCollection.ALL);
    assertThat(reviews).extracting(i -> i.endpoint().address() + " " + i.labels().asMap().get("version"))
        .containsExactly("127.0.1.3 v1", "127.0.1.4 v2", "127.0.1.5 v3");
    assertThat(reviews.get(0).availabilityZone()).isEqualTo("local/local-a");
    assertThat(reviews.get(0).serviceAccount()).isEqualTo("spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    assertThat(reviews.get(0).service().ports()).containsExactly(new Port("http", 9080, Protocol.HTTP));
    assertThat(registry.managementPorts("127.0.1.3")).containsExactly(new Port("mgmt-9081", 9081, Protocol.HTTP));
    // The VM: a Service without selector, hand-written Endpoints, a Pod-shaped object for labels.
    ServiceInstance db = registry.instances("mongodb.default.svc.cluster.local", Set.of(), LabelsCollection.ALL).get(0);
    assertThat(db.endpoint().servicePort().protocol()).isEqualTo(Protocol.MONGO);
    assertThat(db.labels()).isEqualTo(Labels.of("app", "mongodb", "version", "v1"));
    assertThat(registry.serviceAccounts("mongodb.default.svc.cluster.local", Set.of())).containsExactly(
        "spiffe://cluster.local/ns/default/sa/mongodb", "spiffe://db.example.com/mongodb");
    assertThat(registry.fileStatus()).allSatisfy(s -> assertThat(s.state()).isEqualTo(FileState.LOADED));
    assertThat(status("services.yaml").objects()).isEqualTo(4);
    assertThat(events).contains(new RegistryEvent(registry.name(), Kind.SERVICE, EventType.ADD, REVIEWS));
  }

  @Test
  void anEditFiresEventsOnlyForWhatChanged() throws Exception {
    copyBookinfo(dir);
    open();
    polls(1);
    assertThat(registry.hasSynced()).isTrue();
    events.clear();
    Path eps = dir.resolve("endpoints.yaml");
    write(eps, Files.readString(eps).replace("  - ip: 127.0.1.5\n", "  - ip: 127.0.1.5\n  - ip: 127.0.1.7\n"));
    polls(1);
    assertThat(events).isEmpty(); // just written: not read yet
    assertThat(status("endpoints.yaml").state()).isEqualTo(FileState.PENDING);
    polls(2);
    assertThat(events).containsExactly(new RegistryEvent(registry.name(), Kind.INSTANCES, EventType.UPDATE, REVIEWS));
    assertThat(registry.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).hasSize(4);
    events.clear();
    polls(3);
    assertThat(events).isEmpty();
  }

  @Test
  void aBrokenEditKeepsTheLastGoodObjects() throws Exception {
    copyBookinfo(dir);
    open();
    polls(1);
    events.clear();
    Path eps = dir.resolve("endpoints.yaml");
    String good = Files.readString(eps);
    write(eps, good.replace("    port: 9080\n", "    port: [nine]\n"));
    polls(3);
    FileStatus s = status("endpoints.yaml");
    assertThat(s.state()).isEqualTo(FileState.ERROR);
    assertThat(s.failures()).isEqualTo(1);
    assertThat(s.lastError()).startsWith("endpoints.yaml:1: Endpoints default/productpage:");
    assertThat(s.objects()).isEqualTo(4);
    assertThat(events).isEmpty();
    assertThat(registry.instances(REVIEWS, Set.of(), LabelsCollection.ALL)).hasSize(3);
    // Not re-read (nor re-counted) while it stays the same.
    polls(3);
    assertThat(status("endpoints.yaml").failures()).isEqualTo(1);

    write(eps, good + "---\nkind: Endpoints\napiVersion: v1\nmetadata: {name: x\n");
    polls(3);
    assertThat(status("endpoints.yaml").lastError()).matches("endpoints\\.yaml:\\d+: .*");
    assertThat(status("endpoints.yaml").lastError()).doesNotStartWith("endpoints.yaml:1:");

    write(eps, good.replace("127.0.1.5", "127.0.1.8"));
    polls(3);
    assertThat(status("endpoints.yaml").state()).isEqualTo(FileState.LOADED);
    assertThat(status("endpoints.yaml").lastError()).isNull();
    assertThat(events).containsExactly(new RegistryEvent(registry.name(), Kind.INSTANCES, EventType.UPDATE, REVIEWS));
  }

  @Test
  void deletingAFileRemovesItsObjects() throws Exception {
    copyBookinfo(dir);
    open();
    polls(1);
    events.clear();
    Files.delete(dir.resolve("vm-mongodb.yaml"));
    polls(1);
    assertThat(events).containsExactly(
        new RegistryEvent(registry.name(), Kind.SERVICE, EventType.DELETE, "mongodb.default.svc.cluster.local"));
    assertThat(registry.service("mongodb.default.svc.cluster.local")).isEmpty();
    assertThat(registry.hostInstances(List.of("127.0.1.20"))).isEmpty();
    assertThat(registry.fileStatus()).extracting(FileStatus::path).doesNotContain("vm-mongodb.yaml");
  }

  @Test
  void readsListsMultiDocumentsAndJsonAndSkipsOtherKinds() throws Exception {
    write(dir.resolve("a.json"), """
        {"apiVersion": "v1", "kind": "ServiceList", "items": [
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ratings", "namespace": "default"},
           "spec": {"clusterIP": "10.0.0.4", "ports": [{"name": "http", "port": 9080}]}}]}
        """);
    write(dir.resolve("b.yml"), """
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        ---
        ---
        apiVersion: v1
        kind: Endpoints
        metadata: {name: ratings}
        subsets:
        - addresses: [{ip: 10.1.0.3}]
          ports: [{name: http, port: 9080}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: i}
        """);
    write(dir.resolve("notes.txt"), "not: [yaml");
    open();
    polls(3);
    assertThat(registry.instances(RATINGS, Set.of(), LabelsCollection.ALL)).extracting(i -> i.endpoint().address())
        .containsExactly("10.1.0.3");
    assertThat(status("b.yml").ignoredKinds()).containsExactly("networking.k8s.io/v1/Ingress", "v1/ConfigMap");
    assertThat(registry.fileStatus()).extracting(FileStatus::path).containsExactly("a.json", "b.yml");
  }

  @Test
  void rejectsWholeFileOnBadObjectAndNamesIt() throws Exception {
    write(dir.resolve("s.yaml"), """
        apiVersion: v1
        kind: Service
        metadata: {name: ok}
        spec: {ports: [{name: http, port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: bad, namespace: prod}
        spec:
          ports:
          - {name: http, port: 80}
          - {name: http, port: 81}
        """);
    write(dir.resolve("twice.yaml"), """
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        """);
    write(dir.resolve("noname.yaml"), "apiVersion: v1\nkind: Service\nspec: {}\n");
    write(dir.resolve("scalar.yaml"), "just a string\n");
    open();
    polls(3);
    assertThat(status("s.yaml").lastError()).isEqualTo("s.yaml:6: Service prod/bad: port name 'http' is used twice");
    assertThat(status("twice.yaml").lastError()).isEqualTo(
        "twice.yaml:5: Pod default/p is defined twice in this file (first at line 1)");
    assertThat(status("noname.yaml").lastError()).isEqualTo("noname.yaml:1: Service: metadata.name is missing");
    assertThat(status("scalar.yaml").lastError()).startsWith("scalar.yaml:1: a document is a STRING");
    assertThat(registry.services()).isEmpty();
  }

  @Test
  void theFirstFileInPathOrderWinsAConflict() throws Exception {
    String svc = "apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {clusterIP: %s, ports: [{name: http, port: 9080}]}\n";
    write(dir.resolve("a.yaml"), svc.formatted("10.0.0.1"));
    write(dir.resolve("b.yaml"), svc.formatted("10.0.0.2"));
    open();
    polls(3);
    assertThat(registry.service(RATINGS).orElseThrow().address()).isEqualTo("10.0.0.1");
    Files.delete(dir.resolve("a.yaml"));
    polls(1);
    assertThat(registry.service(RATINGS).orElseThrow().address()).isEqualTo("10.0.0.2");
  }

  @Test
  void readsAConfigMapMountThroughItsLinksAndSkipsDotDirectories() throws Exception {
    // kubelet's layout: ..<timestamp>/ holds the files, ..data links to it, each key links into ..data.
    Path v1 = dir.resolve("..2026_12_03_10_00_00.1");
    copyBookinfo(v1);
    Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
    try (Stream<Path> s = Files.list(v1)) {
      for (Path p : s.toList()) {
        Files.createSymbolicLink(dir.resolve(p.getFileName()), Path.of("..data").resolve(p.getFileName()));
      }
    }
    Files.createDirectories(dir.resolve(".git"));
    write(dir.resolve(".git/x.yaml"), "broken: [");
    open();
    polls(3);
    assertThat(registry.services()).hasSize(5);
    assertThat(registry.fileStatus()).extracting(FileStatus::path).containsExactly(
        "endpoints.yaml", "nodes.yaml", "pods.yaml", "services.yaml", "vm-mongodb.yaml");
    events.clear();

    // An update: a new timestamped directory, then ..data swapped atomically.
    Path v2 = dir.resolve("..2026_12_03_10_05_00.2");
    copyBookinfo(v2);
    write(v2.resolve("services.yaml"), Files.readString(v2.resolve("services.yaml")).replace("10.96.0.14", "10.96.0.99"));
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, v2.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    polls(3);
    assertThat(registry.service(RATINGS).orElseThrow().address()).isEqualTo("10.96.0.99");
    assertThat(events).containsExactly(new RegistryEvent(registry.name(), Kind.SERVICE, EventType.UPDATE, RATINGS));
  }

  @Test
  void loadsAHugeFile() throws Exception {
    // 1000 services, 5000 endpoints and their pods in one file: beyond SnakeYAML's 3 MB default.
    StringBuilder b = new StringBuilder();
    for (int s = 0; s < 1000; s++) {
      b.append("---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-").append(s)
          .append("\n  namespace: default\n  labels: {app: svc-").append(s).append("}\n")
          .append("spec:\n  clusterIP: 10.96.").append(s / 250).append('.').append(s % 250)
          .append("\n  ports:\n  - name: http\n    port: 9080\n    protocol: TCP\n    targetPort: 9080\n");
      b.append("---\napiVersion: v1\nkind: Endpoints\nmetadata:\n  name: svc-").append(s)
          .append("\n  namespace: default\nsubsets:\n- addresses:\n");
      for (int e = 0; e < 5; e++) {
        b.append("  - ip: ").append(ip(s, e)).append("\n    nodeName: node-").append(s % 10)
            .append("\n    targetRef: {kind: Pod, name: svc-").append(s).append('-').append(e)
            .append(", namespace: default}\n");
      }
      b.append("  ports:\n  - name: http\n    port: 9080\n    protocol: TCP\n");
      for (int e = 0; e < 5; e++) {
        b.append("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: svc-").append(s).append('-').append(e)
            .append("\n  namespace: default\n  labels:\n    app: svc-").append(s).append("\n    version: v").append(e % 3)
            .append("\n    pod-template-hash: 5f9d8c7b6\n  annotations:\n    example.com/note: \"").append("n".repeat(120))
            .append("\"\nspec:\n  serviceAccountName: svc-").append(s)
            .append("\n  nodeName: node-").append(s % 10)
            .append("\n  containers:\n  - name: app\n    image: example.com/app:1.0\n    ports:\n    - containerPort: 9080\n")
            .append("status:\n  phase: Running\n  podIP: ").append(ip(s, e)).append('\n');
      }
    }
    write(dir.resolve("big.yaml"), b.toString());
    assertThat(Files.size(dir.resolve("big.yaml"))).isGreaterThan(3L << 20);
    open();
    polls(3);
    assertThat(status("big.yaml").lastError()).isNull();
    assertThat(registry.services()).hasSize(1000);
    assertThat(registry.instances("svc-999.default.svc.cluster.local", Set.of(), LabelsCollection.ALL)).hasSize(5);
    assertThat(registry.hostInstances(List.of(ip(500, 2))).get(0).labels().asMap()).containsEntry("version", "v2");
  }

  private static String ip(int s, int e) {
    int n = s * 5 + e;
    return "10.1." + (n / 250) + "." + (n % 250 + 1);
  }

  @Test
  void rejectsAFileOverTheSizeLimitAndKeepsItsLastGoodObjects() throws Exception {
    Path f = dir.resolve("s.yaml");
    write(f, "apiVersion: v1\nkind: Service\nmetadata: {name: ratings}\nspec: {ports: [{name: http, port: 9080}]}\n");
    open(dir, 200);
    polls(3);
    assertThat(registry.service(RATINGS)).isPresent();
    write(f, Files.readString(f) + "#" + "x".repeat(300) + "\n");
    polls(3);
    assertThat(status("s.yaml").state()).isEqualTo(FileState.ERROR);
    assertThat(status("s.yaml").lastError()).contains("bytes (expected: at most 200)");
    assertThat(registry.service(RATINGS)).isPresent();
  }

  @Test
  void aVanishedDirectoryKeepsTheLastView() throws Exception {
    Path root = dir.resolve("services");
    copyBookinfo(root);
    open(root, FileRegistry.Options.DEFAULT_MAX_FILE_BYTES);
    polls(1);
    try (Stream<Path> s = Files.list(root)) {
      for (Path p : s.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(root);
    polls(2);
    assertThat(registry.services()).hasSize(5);
    assertThat(registry.status()).containsKey("directoryError");
  }

  @Test
  void startsItsOwnPollingThreadAndFollowsEdits() throws Exception {
    copyBookinfo(dir);
    open().start();
    await(registry::hasSynced);
    events.clear();
    write(dir.resolve("extra.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: extra}\nspec: {clusterIP: 10.0.0.8, ports: [{name: http, port: 80}]}\n");
    await(() -> registry.service("extra.default.svc.cluster.local").isPresent());
    // The view is updated before listeners hear of it (the registry's contract), so wait for the event too.
    await(() -> !events.isEmpty());
    assertThat(events).containsExactly(
        new RegistryEvent(registry.name(), Kind.SERVICE, EventType.ADD, "extra.default.svc.cluster.local"));
    assertThat(registry.status()).containsEntry("synced", true);
  }

  @Test
  void hostileFilesAreRejectedWithoutHarm() throws Exception {
    // Billion laughs: nested aliases.
    StringBuilder bomb = new StringBuilder("a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (int i = 1; i < 12; i++) {
      bomb.append("a").append(i).append(": &a").append(i).append(" [");
      for (int j = 0; j < 8; j++) {
        bomb.append(j == 0 ? "" : ",").append("*a").append(i - 1);
      }
      bomb.append("]\n");
    }
    write(dir.resolve("bomb.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n" + bomb);
    // Deep nesting.
    write(dir.resolve("deep.yaml"), "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nx: " + "[".repeat(100_000) + "\n");
    write(dir.resolve("deep.json"), "[".repeat(100_000));
    // Not text at all.
    byte[] garbage = new byte[4096];
    new Random(1).nextBytes(garbage);
    Files.write(dir.resolve("garbage.yaml"), garbage);
    // A directory loop through a link.
    Files.createDirectories(dir.resolve("sub"));
    Files.createSymbolicLink(dir.resolve("sub/loop"), dir);
    write(dir.resolve("sub/ok.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\nspec: {ports: [{name: http, port: 80}]}\n");
    open();
    polls(3);
    assertThat(registry.service("ok.default.svc.cluster.local")).isPresent();
    assertThat(status("bomb.yaml").state()).isIn(FileState.ERROR, FileState.LOADED);
    assertThat(status("deep.yaml").state()).isEqualTo(FileState.ERROR);
    assertThat(status("deep.json").state()).isEqualTo(FileState.ERROR);
    assertThat(status("garbage.yaml").state()).isEqualTo(FileState.ERROR);
    assertThat(registry.fileStatus()).extracting(FileStatus::path).doesNotContain("sub/loop/sub/ok.yaml");
  }

  @Test
  void aFileThatNeverStopsChangingIsNeverReadButDoesNotBlockSync() throws Exception {
    open();
    for (int i = 0; i < 12; i++) {
      write(dir.resolve("busy.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: busy}\n# " + "x".repeat(i) + "\n");
      polls(1);
    }
    assertThat(registry.hasSynced()).isTrue();
    assertThat(status("busy.yaml").state()).isEqualTo(FileState.PENDING);
    assertThat(registry.services()).isEmpty();
  }

  static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 30 s");
      }
      Thread.sleep(10);
    }
  }
}
