package io.istio4j.mixer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.istio4j.adapters.redisquota.RedisServer;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CheckRequest;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Two {@code bin/mixs} processes behind one Redis: under concurrent Check load on both, the quota is
 * never granted more than its limit in total.
 */
class RedisQuotaTwoMixersIT {

  static final int LIMIT = 300;

  @Test
  void twoMixersSharingOneRedisNeverGrantMoreThanTheLimit() throws Exception {
    try (RedisServer redis = RedisServer.start()) {
      Path dir = Files.createTempDirectory("two-mixers");
      Files.copy(MixsProcessIT.ROOT.resolve("examples/quickstart/attributes.yaml"), dir.resolve("attributes.yaml"));
      Files.writeString(dir.resolve("quota.yaml"), """
          apiVersion: config.istio.io/v1alpha2
          kind: redisquota
          metadata: {name: handler, namespace: istio-system}
          spec:
            redisServerUrl: "%s"
            connectionPoolSize: 8
            # A CPU-starved test machine must not turn slow answers into failure-policy grants:
            # this test is about two Mixers sharing one count, not about Redis being slow.
            commandTimeout: 10s
            quotas:
            - name: requestcount.quota.istio-system
              maxAmount: %d
              validDuration: 60s
              rateLimitAlgorithm: FIXED_WINDOW
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: quota
          metadata: {name: requestcount, namespace: istio-system}
          spec:
            dimensions:
              destination: destination.service | "unknown"
          ---
          apiVersion: config.istio.io/v1alpha2
          kind: rule
          metadata: {name: quota, namespace: istio-system}
          spec:
            actions:
            - handler: handler.redisquota
              instances: [requestcount.quota]
          """.formatted(redis.url(), LIMIT));
      List<Process> mixers = new ArrayList<>();
      List<ManagedChannel> channels = new ArrayList<>();
      ExecutorService load = Executors.newFixedThreadPool(16);
      try {
        int[] ports = new int[2];
        for (int m = 0; m < 2; m++) {
          ports[m] = MixsProcessIT.freePort();
          int monitoring = MixsProcessIT.freePort();
          Path log = Files.createTempFile("mixs", ".log");
          Process p = new ProcessBuilder(MixsProcessIT.ROOT.resolve("bin/mixs").toString(), "server",
              "--port", String.valueOf(ports[m]), "--monitoringPort", String.valueOf(monitoring),
              "--configStoreURL", "fs://" + dir)
              .redirectErrorStream(true).redirectOutput(log.toFile()).start();
          mixers.add(p);
          MixsProcessIT.awaitReady(monitoring, p, log);
          String status = MixsProcessIT.http(monitoring, "/debug/config").body();
          assertThat(status).as(status).doesNotContain("\"rejected\"");
          channels.add(NettyChannelBuilder.forAddress("localhost", ports[m]).usePlaintext().build());
        }
        AtomicLong granted = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicLong calls = new AtomicLong();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
          MixerGrpc.MixerBlockingStub stub = MixerGrpc.newBlockingStub(channels.get(t % 2));
          int worker = t;
          workers.add(load.submit(() -> {
            for (int n = 0; n < 60; n++) {
              CheckRequest request = CheckRequest.newBuilder()
                  .setAttributes(AttributesEncoder.encode(
                      Map.of("destination.service", "ratings.default.svc.cluster.local"), 167))
                  .setGlobalWordCount(167)
                  .setDeduplicationId("w" + worker + "-" + n)
                  .putQuotas("RequestCount", CheckRequest.QuotaParams.newBuilder().setAmount(1).build())
                  .build();
              try {
                CheckResponse r = stub.withDeadlineAfter(10, TimeUnit.SECONDS).check(request);
                calls.incrementAndGet();
                granted.addAndGet(r.getQuotasOrThrow("RequestCount").getGrantedAmount());
              } catch (RuntimeException e) {
                errors.incrementAndGet();
              }
            }
          }));
        }
        for (Future<?> w : workers) {
          w.get(120, TimeUnit.SECONDS);
        }
        assertThat(errors.get()).isZero();
        assertThat(calls.get()).as("demand: 960 requests for a limit of %d", LIMIT).isEqualTo(960);
        assertThat(granted.get()).as("granted across both Mixers").isEqualTo(LIMIT);
      } finally {
        load.shutdownNow();
        channels.forEach(ManagedChannel::shutdownNow);
        for (Process p : mixers) {
          p.destroy();
          p.waitFor(20, TimeUnit.SECONDS);
          p.destroyForcibly();
        }
      }
    }
  }
}
