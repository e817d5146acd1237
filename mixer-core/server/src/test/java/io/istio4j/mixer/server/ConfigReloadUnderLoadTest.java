package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replacing a 1000-rule config while Checks run fails no request: every answer during the reload
 * comes from the old config or the new one. (How long the reload takes is measured by the load
 * runs in docs/performance.md, not asserted here.)
 */
class ConfigReloadUnderLoadTest {

  static final int RULES = Integer.getInteger("istio4j.test.rules", 1000);

  static String config(int rules, String message) {
    StringBuilder b = new StringBuilder(ConfigReloadTest.MANIFEST).append("""
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: denier
        metadata: {name: deny, namespace: istio-system}
        spec:
          status: {code: 7, message: "%s"}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: checknothing
        metadata: {name: nothing, namespace: istio-system}
        spec: {}
        ---
        apiVersion: config.istio.io/v1alpha2
        kind: rule
        metadata: {name: mallory, namespace: istio-system}
        spec:
          match: source.user == "mallory"
          actions: [{handler: deny.denier, instances: [nothing.checknothing]}]
        """.formatted(message));
    for (int i = 0; i < rules; i++) {
      b.append("""
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: rule
          metadata: {name: r%d, namespace: default}
          spec:
            match: source.user == "user%d"
            actions: [{handler: deny.denier.istio-system, instances: [nothing.checknothing.istio-system]}]
          """.formatted(i, i));
    }
    return b.toString();
  }

  @Test
  void noRequestFailsWhileA1000RuleConfigIsReplaced(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, config(RULES, "old"));
    try (MixerServer server = MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir))) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      MixerGrpc.MixerBlockingStub stub = MixerGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.MINUTES);
      CheckRequest mallory = CheckRequest.newBuilder()
          .setAttributes(AttributesEncoder.encode(Map.of("destination.service", "ratings.default.svc.cluster.local",
              "source.user", "mallory"), 167))
          .setGlobalWordCount(167).build();
      CheckRequest alice = CheckRequest.newBuilder()
          .setAttributes(AttributesEncoder.encode(Map.of("destination.service", "ratings.default.svc.cluster.local",
              "source.user", "alice"), 167))
          .setGlobalWordCount(167).build();
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong calls = new AtomicLong();
      AtomicLong sawNew = new AtomicLong();
      ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
      ExecutorService load = Executors.newFixedThreadPool(4);
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        boolean bad = t % 2 == 0;
        workers.add(load.submit(() -> {
          while (!stop.get()) {
            try {
              CheckResponse r = stub.check(bad ? mallory : alice);
              calls.incrementAndGet();
              int code = r.getPrecondition().getStatus().getCode();
              String msg = r.getPrecondition().getStatus().getMessage();
              if (bad && !(code == 7 && (msg.endsWith(":old") || msg.endsWith(":new")))) {
                failures.add("mallory got " + code + " " + msg);
              } else if (!bad && code != 0) {
                failures.add("alice got " + code + " " + msg);
              }
              if (msg.endsWith(":new")) {
                sawNew.incrementAndGet();
              }
            } catch (RuntimeException e) {
              failures.add(e.toString());
            }
          }
        }));
      }
      Thread.sleep(500);
      long before = calls.get();
      Files.writeString(file, config(RULES, "new"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (sawNew.get() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      Thread.sleep(300);
      stop.set(true);
      for (Future<?> w : workers) {
        w.get(30, TimeUnit.SECONDS);
      }
      load.shutdown();
      ch.shutdownNow();
      assertThat(sawNew.get()).as("the new config went live").isPositive();
      assertThat(calls.get()).as("requests kept flowing during the reload").isGreaterThan(before);
      assertThat(failures).as("failed or wrong answers during the reload").isEmpty();
    }
  }
}
