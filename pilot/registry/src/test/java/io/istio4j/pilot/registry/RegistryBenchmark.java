package io.istio4j.pilot.registry;

import static io.istio4j.pilot.registry.KubeObjects.endpoints;
import static io.istio4j.pilot.registry.KubeObjects.node;
import static io.istio4j.pilot.registry.KubeObjects.pod;
import static io.istio4j.pilot.registry.KubeObjects.port;
import static io.istio4j.pilot.registry.KubeObjects.service;
import static io.istio4j.pilot.registry.KubeObjects.zoneLabels;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.istio4j.pilot.model.LabelsCollection;
import io.istio4j.pilot.model.RegistryEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How much an update costs at issue 14's scale (1000 services, 5000 endpoints, 5000 pods, 10
 * nodes): the initial load into the index, one Endpoints change (scale a service by one address),
 * one Pod label change, one Node zone change, and loading the same objects from one file. Not a
 * test: run it by hand (docs/performance.md, "Pilot registries").
 *
 * <pre>
 * ./mvnw -B -o -q -Dmaven.repo.local=... test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/cp.txt -pl pilot/registry
 * java -cp pilot/registry/target/classes:pilot/registry/target/test-classes:$(cat pilot/registry/target/cp.txt) \
 *     io.istio4j.pilot.registry.RegistryBenchmark
 * </pre>
 */
public final class RegistryBenchmark {
  private static final int SERVICES = 1000;
  private static final int PER_SERVICE = 5;
  private static final int NODES = 10;

  private RegistryBenchmark() {}

  static String ip(int s, int e) {
    int n = s * PER_SERVICE + e;
    return "10.1." + (n / 250) + "." + (n % 250 + 1);
  }

  static String[] ips(int s, int count) {
    String[] out = new String[count];
    for (int e = 0; e < count; e++) {
      out[e] = ip(s, e);
    }
    return out;
  }

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    List<Pod> pods = new ArrayList<>();
    for (int s = 0; s < SERVICES; s++) {
      for (int e = 0; e < PER_SERVICE + 1; e++) {
        pods.add(pod("default", "svc-" + s + "-" + e, ip(s, e), "node-" + (s % NODES), "svc-" + s,
            Map.of("app", "svc-" + s, "version", "v" + (e % 3))));
      }
    }
    Runtime rt = Runtime.getRuntime();
    for (int warm = 0; warm < 3; warm++) {
      System.gc();
      long heapBefore = rt.totalMemory() - rt.freeMemory();
      long t0 = System.nanoTime();
      KubernetesIndex index = load(pods);
      long loadNs = System.nanoTime() - t0;
      System.gc();
      long heapAfter = rt.totalMemory() - rt.freeMemory();
      System.out.printf("initial load: %d services, %d instances in %.1f ms; heap +%.1f MB%n",
          index.services().size(), index.instanceCount(), loadNs / 1e6, (heapAfter - heapBefore) / 1e6);

      List<RegistryEvent> events = new ArrayList<>();
      Endpoints[] scaled = new Endpoints[SERVICES];
      Endpoints[] normal = new Endpoints[SERVICES];
      for (int s = 0; s < SERVICES; s++) {
        scaled[s] = endpoints("default", "svc-" + s, ips(s, PER_SERVICE + 1), "http", 9080);
        normal[s] = endpoints("default", "svc-" + s, ips(s, PER_SERVICE), "http", 9080);
      }
      long[] lat = new long[rounds];
      for (int r = 0; r < rounds; r++) {
        int s = (r * 7919) % SERVICES;
        Endpoints ep = (r / SERVICES) % 2 == 0 ? scaled[s] : normal[s];
        long a = System.nanoTime();
        index.putEndpoints(ep, events);
        lat[r] = System.nanoTime() - a;
      }
      report("Endpoints change (scale one service 5<->6)", lat, events.size());

      events.clear();
      long[] podLat = new long[rounds];
      for (int r = 0; r < rounds; r++) {
        int s = (r * 7919) % SERVICES;
        Pod p = pod("default", "svc-" + s + "-0", ip(s, 0), "node-" + (s % NODES), "svc-" + s,
            Map.of("app", "svc-" + s, "version", "v" + ((r / SERVICES) % 2 == 0 ? "x" : "0")));
        long a = System.nanoTime();
        index.putPod(p, events);
        podLat[r] = System.nanoTime() - a;
      }
      report("Pod label change", podLat, events.size());

      events.clear();
      long[] nodeLat = new long[100];
      for (int r = 0; r < nodeLat.length; r++) {
        long a = System.nanoTime();
        index.putNode(node("node-" + (r % NODES), zoneLabels("r", "z" + r)), events);
        nodeLat[r] = System.nanoTime() - a;
      }
      report("Node zone change (100 services, 600 pods each)", nodeLat, events.size());

      long q0 = System.nanoTime();
      int found = 0;
      for (int r = 0; r < rounds; r++) {
        found += index.instances("svc-" + (r % SERVICES) + ".default.svc.cluster.local", Set.of("http"),
            LabelsCollection.ALL).size();
      }
      System.out.printf("instances(hostname): %.2f us per call (%d found)%n",
          (System.nanoTime() - q0) / 1e3 / rounds, found);
    }
    fileLoad(pods);
  }

  private static KubernetesIndex load(List<Pod> pods) {
    KubernetesIndex index = new KubernetesIndex("bench", "cluster.local");
    List<RegistryEvent> events = new ArrayList<>();
    for (int n = 0; n < NODES; n++) {
      index.putNode(node("node-" + n, zoneLabels("us-east1", "us-east1-" + n)), events);
    }
    for (Pod p : pods) {
      index.putPod(p, events);
    }
    for (int s = 0; s < SERVICES; s++) {
      index.putService(service("default", "svc-" + s, "10.96." + (s / 250) + "." + (s % 250), port("http", 9080)), events);
      index.putEndpoints(endpoints("default", "svc-" + s, ips(s, PER_SERVICE), "http", 9080), events);
    }
    return index;
  }

  private static void fileLoad(List<Pod> pods) throws Exception {
    KubernetesSerialization ser = new KubernetesSerialization();
    StringBuilder b = new StringBuilder();
    for (int s = 0; s < SERVICES; s++) {
      b.append("---\n").append(ser.asYaml(service("default", "svc-" + s, "10.96.0." + (s % 250), port("http", 9080))));
      b.append("---\n").append(ser.asYaml(endpoints("default", "svc-" + s, ips(s, PER_SERVICE), "http", 9080)));
    }
    for (Pod p : pods) {
      b.append("---\n").append(ser.asYaml(p));
    }
    Path dir = Files.createTempDirectory("registry-bench");
    Path file = dir.resolve("all.yaml");
    Files.writeString(file, b.toString().replace("\n---\n---\n", "\n---\n"));
    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    System.out.printf("file: %.1f MB%n", Files.size(file) / 1e6);
    for (int i = 0; i < 3; i++) {
      try (FileRegistry r = new FileRegistry(new FileRegistry.Options(dir, "cluster.local", Duration.ofSeconds(1),
          FileRegistry.Options.DEFAULT_MAX_FILE_BYTES))) {
        long a = System.nanoTime();
        r.poll();
        System.out.printf("file registry first poll (read, hash, parse, convert, index): %.0f ms, %d services, %s%n",
            (System.nanoTime() - a) / 1e6, r.services().size(), r.fileStatus().get(0).state());
        long c = System.nanoTime();
        r.poll();
        System.out.printf("file registry poll with nothing changed: %.2f ms%n", (System.nanoTime() - c) / 1e6);
        Path small = dir.resolve("small.yaml");
        Files.writeString(small, ser.asYaml(endpoints("default", "extra", ips(7, PER_SERVICE + 1), "http", 9080)));
        Files.setLastModifiedTime(small, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        long d = System.nanoTime();
        r.poll();
        System.out.printf("file registry poll after a small file is added next to the big one: %.1f ms%n",
            (System.nanoTime() - d) / 1e6);
        Files.delete(small);
      }
      KubernetesObjectFile parser = new KubernetesObjectFile("cluster.local", 64 << 20);
      byte[] content = Files.readAllBytes(file);
      long p0 = System.nanoTime();
      parser.parse("all.yaml", content);
      System.out.printf("  of which parse+convert: %.0f ms%n", (System.nanoTime() - p0) / 1e6);
    }
  }

  private static void report(String what, long[] lat, int events) {
    long[] s = lat.clone();
    Arrays.sort(s);
    double mean = Arrays.stream(s).average().orElse(0);
    System.out.printf("%s: mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us over %d; %d events%n",
        what, mean / 1e3, s[s.length / 2] / 1e3, s[(int) (s.length * 0.99)] / 1e3, s[s.length - 1] / 1e3, s.length, events);
  }
}
