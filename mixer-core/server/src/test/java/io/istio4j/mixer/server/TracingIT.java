package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import io.istio4j.testing.zipkin.ZipkinServer;
import io.istio4j.testing.zipkin.ZipkinSpan;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mixer's spans and tracespan instances arrive in a real Zipkin (the zipkin-server exec jar, its own JVM). */
class TracingIT {

  private static ZipkinServer zipkin;

  @BeforeAll
  static void startZipkin() throws Exception {
    zipkin = ZipkinServer.start();
  }

  @AfterAll
  static void stopZipkin() throws Exception {
    if (zipkin != null) {
      zipkin.close();
    }
  }

  private static MixerServer mixs(Path dir) throws Exception {
    Files.writeString(dir.resolve("config.yaml"), TracingConfig.YAML);
    return MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir),
        new TracingOptions(zipkin.spansUrl(), 1.0f));
  }

  @Test
  void mixersServerSpanIsAChildOfTheCallersSpanWithOneSpanPerHandler(@TempDir Path dir) throws Exception {
    String traceId = "463ac35c9f6413ad48485a3953bb6124";
    String callerSpan = "a2fb4a1d1a96d312";
    try (MixerServer server = mixs(dir)) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        CheckResponse r = MixerGrpc.newBlockingStub(ch)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TracingConfig.b3(
                "x-request-id", "r-1", "x-b3-traceid", traceId, "x-b3-spanid", callerSpan,
                "x-b3-parentspanid", "0020000000000001", "x-b3-sampled", "1")))
            .check(TracingConfig.check("alice"));
        assertThat(r.getPrecondition().getStatus().getCode()).isZero();
        assertThat(r.getQuotasMap().get("requestcount").getGrantedAmount()).isEqualTo(1);
      } finally {
        ch.shutdownNow();
      }

      List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, t -> t.size() >= 3, Duration.ofSeconds(20));

      assertThat(trace).as("trace %s", trace).hasSize(3);
      ZipkinSpan mixer = trace.stream().filter(s -> "SERVER".equals(s.kind())).findFirst().orElseThrow();
      assertThat(mixer.parentId()).isEqualTo(callerSpan);
      assertThat(mixer.serviceName()).isEqualTo("istio-mixer");
      assertThat(mixer.name()).isEqualTo("istio.mixer.v1.mixer/check");
      assertThat(mixer.tags()).containsEntry("grpc.status_code", "OK");
      List<ZipkinSpan> handlers = trace.stream().filter(s -> s != mixer).toList();
      assertThat(handlers).allSatisfy(s -> {
        assertThat(s.parentId()).isEqualTo(mixer.id());
        assertThat(s.serviceName()).isEqualTo("istio-mixer");
        assertThat(s.tags()).containsEntry("mixer.status", "OK");
      });
      assertThat(handlers).extracting(ZipkinSpan::name).containsExactlyInAnyOrder(
          "listentry:callers.listchecker.istio-system(listchecker)",
          "quota:limits.memquota.istio-system(memquota)");
      assertThat(handlers).filteredOn(s -> s.name().startsWith("quota:")).singleElement()
          .satisfies(s -> assertThat(s.tags()).containsEntry("mixer.quota.amount", "1")
              .containsEntry("mixer.quota.granted", "1"));
    }
  }

  @Test
  void redisquotasRedisCallIsAChildOfItsHandlerSpan(@TempDir Path dir) throws Exception {
    Path redisServer = Path.of("/usr/bin/redis-server");
    assertThat(redisServer).as("redis-server is needed: apt-get install redis-server").exists();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process redis = new ProcessBuilder(redisServer.toString(), "--port", Integer.toString(port), "--save", "",
        "--appendonly", "no", "--bind", "127.0.0.1").redirectErrorStream(true)
        .redirectOutput(dir.resolve("redis.log").toFile()).start();
    String traceId = "9af7183fb1d4cf5f";
    try {
      Files.writeString(dir.resolve("config.yaml"), TracingConfig.YAML.replace(
          "kind: memquota\nmetadata: {name: limits, namespace: istio-system}\nspec:\n",
          "kind: redisquota\nmetadata: {name: limits, namespace: istio-system}\nspec:\n  redisServerUrl: \"127.0.0.1:"
              + port + "\"\n").replace("limits.memquota", "limits.redisquota"));
      try (MixerServer server = MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir),
          new TracingOptions(zipkin.spansUrl(), 1.0f))) {
        ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
        try {
          CheckResponse r = null;
          long deadline = System.nanoTime() + 10_000_000_000L; // redis-server may still be starting
          while (System.nanoTime() < deadline) {
            r = MixerGrpc.newBlockingStub(ch)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                    TracingConfig.b3("b3", traceId + "-1111111111111111-1")))
                .check(TracingConfig.check("alice"));
            if (r.getQuotasMap().get("requestcount").getGrantedAmount() == 1) {
              break;
            }
            Thread.sleep(200);
          }
          assertThat(r.getQuotasMap().get("requestcount").getGrantedAmount()).isEqualTo(1);
        } finally {
          ch.shutdownNow();
        }
      }
      List<ZipkinSpan> trace = zipkin.awaitTrace(traceId,
          t -> t.stream().anyMatch(s -> s.name().equals("redis evalsha")), Duration.ofSeconds(20));
      ZipkinSpan redisSpan = trace.stream().filter(s -> s.name().equals("redis evalsha")).reduce((a, b) -> b)
          .orElseThrow(() -> new AssertionError("no redis span in " + trace));
      ZipkinSpan handler = trace.stream().filter(s -> s.id().equals(redisSpan.parentId())).findFirst().orElseThrow();
      assertThat(handler.name()).isEqualTo("quota:limits.redisquota.istio-system(redisquota)");
      assertThat(redisSpan.tags()).containsEntry("redisquota.granted", "1")
          .containsEntry("redis.address", "redis://127.0.0.1:" + port + "/0");
    } finally {
      redis.destroy();
      redis.waitFor();
    }
  }

  @Test
  void tracespanInstancesOfAReportReachZipkin(@TempDir Path dir) throws Exception {
    String traceId = "5af7183fb1d4cf5f";
    Instant start = Instant.now().minusSeconds(1);
    try (MixerServer server = mixs(dir)) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        // An untraced Report (sampled 0): only the proxy's span is in Zipkin, none of Mixer's.
        MixerGrpc.newBlockingStub(ch)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TracingConfig.b3("b3", "0")))
            .report(TracingConfig.reportWithSpan(traceId, "6b221d5bc9e6496c", "", start));
      } finally {
        ch.shutdownNow();
      }

      List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, t -> !t.isEmpty(), Duration.ofSeconds(20));

      assertThat(trace).as("trace %s", trace).singleElement().satisfies(s -> {
        assertThat(s.id()).isEqualTo("6b221d5bc9e6496c");
        assertThat(s.parentId()).isNull();
        assertThat(s.name()).isEqualTo("/ratings/0");
        assertThat(s.serviceName()).isEqualTo("ratings.default.svc.cluster.local");
        assertThat(s.tags()).containsEntry("http.path", "/ratings/0");
      });
    }
  }

  @Test
  void aSampledReportHasARecordsSpanAndOneSpanPerHandlerBatch(@TempDir Path dir) throws Exception {
    String traceId = "7af7183fb1d4cf5f";
    try (MixerServer server = mixs(dir)) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        MixerGrpc.newBlockingStub(ch)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                TracingConfig.b3("b3", traceId + "-1111111111111111-1")))
            .report(TracingConfig.reportWithSpan("8af7183fb1d4cf5f", "6b221d5bc9e6496c", "", Instant.now()));
      } finally {
        ch.shutdownNow();
      }

      List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, t -> t.size() >= 3, Duration.ofSeconds(20));

      assertThat(trace).extracting(ZipkinSpan::name).containsExactlyInAnyOrder(
          "istio.mixer.v1.mixer/report", "report records",
          "tracespan:proxyspans.zipkin.istio-system(zipkin)");
      assertThat(trace).filteredOn(s -> s.name().equals("report records")).singleElement()
          .satisfies(s -> assertThat(s.tags()).containsEntry("mixer.records", "1"));
    }
  }
}
