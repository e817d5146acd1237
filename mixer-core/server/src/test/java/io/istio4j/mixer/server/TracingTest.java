package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.istio4j.mixer.attribute.AttributesEncoder;
import io.istio4j.mixer.v1.CheckResponse;
import io.istio4j.mixer.v1.MixerGrpc;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tracing never fails a call: bad B3 headers, Zipkin down, Zipkin stuck; what is lost is counted. */
class TracingTest {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static String metrics(MixerServer server) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + server.monitoringPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static double metric(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static MixerServer mixs(Path dir, String zipkinUrl) throws Exception {
    Files.writeString(dir.resolve("config.yaml"), TracingConfig.YAML);
    return MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + dir),
        new TracingOptions(zipkinUrl, 1.0f));
  }

  private static CheckResponse check(ManagedChannel ch, String... b3) {
    return MixerGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(TracingConfig.b3(b3)))
        .check(TracingConfig.check("alice"));
  }

  @Test
  void malformedB3HeadersStartANewTraceAndAreCounted(@TempDir Path dir) throws Exception {
    try (MixerServer server = mixs(dir, "http://127.0.0.1:" + closedPort() + "/api/v2/spans")) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        String[][] bad = {
            {"x-b3-traceid", "zzzz", "x-b3-spanid", "a2fb4a1d1a96d312"},
            {"x-b3-traceid", "463ac35c9f6413ad463ac35c9f6413ad463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312"},
            {"x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a".repeat(30_000)},
            {"b3", "463ac35c9f6413ad-a2fb4a1d1a96d312-maybe"},
            {"x-b3-sampled", "perhaps"},
        };
        for (String[] headers : bad) {
          assertThat(check(ch, headers).getPrecondition().getStatus().getCode()).as(String.join(" ", headers)).isZero();
        }
        assertThat(check(ch, "x-b3-traceid", "463ac35c9f6413ad", "x-b3-spanid", "a2fb4a1d1a96d312")
            .getPrecondition().getStatus().getCode()).isZero();
      } finally {
        ch.shutdownNow();
      }
      assertThat(metric(metrics(server), "mixer_trace_b3_malformed_total")).isEqualTo(5);
    }
  }

  @Test
  void aZipkinThatIsDownLosesSpansNotCalls(@TempDir Path dir) throws Exception {
    try (MixerServer server = mixs(dir, "http://127.0.0.1:" + closedPort() + "/api/v2/spans")) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        for (int i = 0; i < 50; i++) {
          assertThat(check(ch).getPrecondition().getStatus().getCode()).isZero();
        }
      } finally {
        ch.shutdownNow();
      }
      String text = metrics(server);
      long deadline = System.nanoTime() + 10_000_000_000L; // the reporter sends about every second
      while (metric(text, "mixer_trace_spans_dropped_total") <= 0 && System.nanoTime() < deadline) {
        Thread.sleep(100);
        text = metrics(server);
      }
      assertThat(metric(text, "mixer_trace_spans_total")).isEqualTo(150); // a server span and 2 handler spans each
      assertThat(metric(text, "mixer_trace_spans_dropped_total")).isPositive();
      assertThat(metric(text, "mixer_trace_messages_dropped_total")).isPositive();
    }
  }

  @Test
  void aSpanTooLargeForAMessageIsDroppedAndCountedAndTheOthersAreSent(@TempDir Path dir) throws Exception {
    AtomicInteger messages = new AtomicInteger();
    HttpServer sink = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    sink.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      messages.incrementAndGet();
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    sink.start();
    try (MixerServer server = mixs(dir, "http://127.0.0.1:" + sink.getAddress().getPort() + "/api/v2/spans")) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        // The tracespan's name and http.path tag are the request path: 2 x 300 KB, more than a message holds.
        String huge = "/" + "x".repeat(300_000);
        MixerGrpc.newBlockingStub(ch).report(TracingConfig.reportWithSpan("9af7183fb1d4cf5f", "6b221d5bc9e6496c", "",
            Instant.now()).toBuilder().setAttributes(0, AttributesEncoder.encode(Map.of(
                "destination.service", "ratings.default.svc.cluster.local", "request.path", huge,
                "request.headers", Map.of("x-b3-traceid", "9af7183fb1d4cf5f", "x-b3-spanid", "6b221d5bc9e6496c"),
                "request.time", Instant.now(), "response.time", Instant.now()), 167)).build());
        assertThat(check(ch).getPrecondition().getStatus().getCode()).isZero();
      } finally {
        ch.shutdownNow();
      }
      String text = metrics(server);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while ((metric(text, "mixer_trace_spans_dropped_total") < 1 || metric(text, "mixer_trace_messages_total") < 1)
          && System.nanoTime() < deadline) {
        Thread.sleep(100);
        text = metrics(server);
      }
      assertThat(metric(text, "mixer_trace_spans_dropped_total")).isEqualTo(1);
      assertThat(metric(text, "mixer_trace_messages_dropped_total")).isZero();
      assertThat(messages).hasPositiveValue();
    } finally {
      sink.stop(0);
    }
  }

  @Test
  void aStuckZipkinFillsTheBoundedQueueAndDropsAreCounted(@TempDir Path dir) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    HttpServer stuck = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    stuck.createContext("/", exchange -> {
      try {
        release.await(); // never answers while the test runs
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.sendResponseHeaders(202, -1);
      exchange.close();
    });
    stuck.start();
    try (MixerServer server = mixs(dir, "http://127.0.0.1:" + stuck.getAddress().getPort() + "/api/v2/spans")) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
      try {
        // The bounds: QUEUED_MAX_SPANS waiting to be encoded, QUEUED_MAX_MESSAGES full messages
        // waiting to be posted (about 400 spans each), one being posted. Call until spans drop.
        MixerGrpc.MixerBlockingStub stub = MixerGrpc.newBlockingStub(ch);
        String text = "";
        for (int batch = 0; batch < 60 && metric(text, "mixer_trace_spans_dropped_total") <= 0; batch++) {
          for (int i = 0; i < 1_000; i++) {
            assertThat(stub.check(TracingConfig.check("alice")).getPrecondition().getStatus().getCode()).isZero();
          }
          text = metrics(server);
        }
        assertThat(metric(text, "mixer_trace_spans_dropped_total")).isPositive();
        // A span of Mixer's takes at least 40 bytes in a message.
        int bound = MixerTracing.QUEUED_MAX_SPANS
            + (MixerTracing.QUEUED_MAX_MESSAGES + 2) * MixerTracing.MESSAGE_MAX_BYTES / 40;
        assertThat(metric(text, "mixer_trace_queued_spans")).isPositive().isLessThanOrEqualTo(bound);
      } finally {
        ch.shutdownNow();
      }
    } finally {
      release.countDown();
      stuck.stop(0);
    }
  }

  @Test
  void badFlagsAreRefusedNamingTheFlag() {
    assertThat(catchThrowable(() -> new TracingOptions("zipkin:9411", 1f)))
        .hasMessageContaining("--zipkinURL");
    // Credentials in the URL are refused without repeating them (the URL is logged at start).
    assertThat(catchThrowable(() -> new TracingOptions("http://ops:s3cret@zipkin:9411/api/v2/spans", 1f)))
        .hasMessageContaining("--zipkinURL").hasMessageNotContaining("s3cret");
    assertThat(catchThrowable(() -> new TracingOptions(null, 1.5f)))
        .hasMessageContaining("--traceSampleRate");
    assertThat(catchThrowable(() -> new TracingOptions(null, Float.NaN)))
        .hasMessageContaining("--traceSampleRate");
  }
}
