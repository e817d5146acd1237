package io.istio4j.mixerclient;

import static org.assertj.core.api.Assertions.assertThat;

import brave.ScopedSpan;
import brave.Span;
import brave.Tracer;
import brave.Tracing;
import brave.propagation.TraceContextOrSamplingFlags;
import brave.sampler.Sampler;
import io.istio4j.mixer.server.TracingOptions;
import io.istio4j.mixerclient.servlet.MixerFilter;
import io.istio4j.testing.zipkin.ZipkinServer;
import io.istio4j.testing.zipkin.ZipkinSpan;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import zipkin2.reporter.brave.AsyncZipkinSpanHandler;
import zipkin2.reporter.urlconnection.URLConnectionSender;

/**
 * Issue 16 item 4 end to end: a real Zipkin (the zipkin-server exec jar, its own JVM), a real Mixer
 * tracing to it ({@code --zipkinURL}, in-process) with the quickstart policy, and a Java service that
 * traces with Brave and checks through {@link MixerClient}. After one traced Check, Zipkin's
 * {@code /api/v2/trace/{traceId}} holds the caller's span, Mixer's server span as its child and one
 * span per handler Mixer called.
 */
class MixerClientTracingIT {

  static final String PRODUCTPAGE = "productpage.default.svc.cluster.local";
  static final String RATINGS = "ratings.default.svc.cluster.local";
  static final String DETAILS = "details.default.svc.cluster.local";
  /** The handlers the quickstart policy calls for productpage → ratings with quota, as Mixer names their spans. */
  static final List<String> HANDLER_SPANS = List.of(
      "listentry:ratingscallers.listchecker.istio-system(listchecker)",
      "quota:handler.memquota.istio-system(memquota)");

  static ZipkinServer zipkin;
  static TestMixer mixer;

  /** The service's own tracing (what a Java service using Brave has), reporting to the same Zipkin. */
  Tracing tracing;
  AsyncZipkinSpanHandler callerSpans;

  @BeforeAll
  static void start(@TempDir Path dir) throws Exception {
    zipkin = ZipkinServer.start();
    mixer = TestMixer.start(dir, new TracingOptions(zipkin.spansUrl(), 1.0f));
  }

  @AfterAll
  static void stop() throws Exception {
    if (mixer != null) {
      mixer.close();
    }
    if (zipkin != null) {
      zipkin.close();
    }
  }

  @BeforeEach
  void callersTracing() {
    callerSpans = AsyncZipkinSpanHandler.create(URLConnectionSender.create(zipkin.spansUrl()));
    tracing = Tracing.newBuilder()
        .localServiceName("productpage")
        .traceId128Bit(true)
        .sampler(Sampler.ALWAYS_SAMPLE)
        .addSpanHandler(callerSpans)
        .build();
  }

  @AfterEach
  void closeCallersTracing() {
    tracing.close();
    callerSpans.close();
  }

  static Attributes productpageToRatings(String user) {
    return Attributes.builder()
        .put("source.service", PRODUCTPAGE)
        .put("destination.service", RATINGS)
        .put("request.headers", Map.of("x-user", user))
        .put("request.path", "/ratings/0")
        .build();
  }

  @Test
  void aCheckInsideTheCallersSpanIsTracedThroughMixerAndItsHandlers() throws Exception {
    Tracer tracer = tracing.tracer();
    String traceId;
    String callerId;
    try (MixerClient client = MixerClient.builder().target(mixer.target()).build()) {
      ScopedSpan caller = tracer.startScopedSpan("get /productpage");
      try {
        traceId = caller.context().traceIdString();
        callerId = caller.context().spanIdString();
        CheckResult r = client.check(productpageToRatings("jason"), "requestcount", 1);
        assertThat(r.code()).as("check %s", r).isZero();
        assertThat(r.source()).isEqualTo(CheckResult.Source.MIXER);
      } finally {
        caller.finish();
      }
    }
    callerSpans.flush();

    List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, t -> t.size() >= 4, Duration.ofSeconds(30));

    assertThat(trace).as("trace %s", trace).hasSize(4);
    ZipkinSpan callerSpan = trace.stream().filter(s -> s.id().equals(callerId)).findFirst()
        .orElseThrow(() -> new AssertionError("no caller span " + callerId + " in " + trace));
    assertThat(callerSpan.serviceName()).isEqualTo("productpage");
    assertThat(callerSpan.name()).isEqualTo("get /productpage");
    assertMixerAndHandlers(trace, callerId, HANDLER_SPANS);
  }

  /** Mixer's server span is a child of {@code parentId}; one span per handler is a child of Mixer's. */
  static void assertMixerAndHandlers(List<ZipkinSpan> trace, String parentId, List<String> handlerSpans) {
    ZipkinSpan server = trace.stream().filter(s -> "SERVER".equals(s.kind()) && "istio-mixer".equals(s.serviceName()))
        .findFirst().orElseThrow(() -> new AssertionError("no Mixer server span in " + trace));
    assertThat(server.parentId()).isEqualTo(parentId);
    assertThat(server.name()).isEqualTo("istio.mixer.v1.mixer/check");
    assertThat(server.tags()).containsEntry("grpc.status_code", "OK");
    List<ZipkinSpan> handlers = trace.stream().filter(s -> server.id().equals(s.parentId())).toList();
    assertThat(handlers).extracting(ZipkinSpan::name).containsExactlyInAnyOrderElementsOf(handlerSpans);
    assertThat(handlers).allSatisfy(s -> {
      assertThat(s.serviceName()).isEqualTo("istio-mixer");
      assertThat(s.tags()).containsEntry("mixer.status", "OK");
    });
    assertThat(handlers).filteredOn(s -> s.name().startsWith("quota:")).singleElement()
        .satisfies(s -> assertThat(s.tags()).containsEntry("mixer.quota.amount", "1"));
  }

  @Test
  void aServletBehindTheFilterJoinsTheTraceOfTheIncomingB3Headers() throws Exception {
    Tracer tracer = tracing.tracer();
    // What Brave's servlet instrumentation does: the request's B3 headers become the current span.
    Filter braveServer = (req, resp, chain) -> {
      TraceContextOrSamplingFlags extracted = tracing.propagation()
          .extractor((HttpServletRequest r, String key) -> r.getHeader(key)).extract((HttpServletRequest) req);
      Span span = tracer.nextSpan(extracted).kind(Span.Kind.SERVER).name("get").start();
      try (Tracer.SpanInScope scope = tracer.withSpanInScope(span)) {
        chain.doFilter(req, resp);
      } finally {
        span.finish();
      }
    };
    try (MixerClient client = MixerClient.builder().target(mixer.target()).build()) {
      ServletContextHandler app = new ServletContextHandler();
      app.addServlet(new ServletHolder(new HttpServlet() {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
          resp.getWriter().write("details");
        }
      }), "/*");
      app.addFilter(new FilterHolder(braveServer), "/*", EnumSet.of(DispatcherType.REQUEST));
      app.addFilter(new FilterHolder(new MixerFilter(client, DETAILS, "requestcount", 1)), "/*",
          EnumSet.of(DispatcherType.REQUEST));
      Server jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
      jetty.setHandler(app);
      jetty.start();
      try {
        String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        String envoySpan = "00f067aa0ba902b7";
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort() + "/details/0"))
            .header("x-user", "jason")
            .header("b3", traceId + "-" + envoySpan + "-1")
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("response %s", r.body()).isEqualTo(200);
        callerSpans.flush();

        List<ZipkinSpan> trace = zipkin.awaitTrace(traceId, t -> t.size() >= 3, Duration.ofSeconds(30));

        ZipkinSpan servlet = trace.stream().filter(s -> "productpage".equals(s.serviceName())).findFirst()
            .orElseThrow(() -> new AssertionError("no servlet span in " + trace));
        assertThat(servlet.parentId()).isEqualTo(envoySpan);
        assertThat(trace).hasSize(3);
        // The filter knows no source.service (Envoy's), so only the quota rule applies to details.
        assertMixerAndHandlers(trace, servlet.id(), List.of("quota:handler.memquota.istio-system(memquota)"));
      } finally {
        jetty.stop();
      }
    }
  }

  @Test
  void aZipkinThatIsDownFailsNoCheck(@TempDir Path dir) throws Exception {
    Path config = Files.createDirectories(dir.resolve("down"));
    // Nothing listens on the port: every message to "Zipkin" fails, and the spans are dropped.
    try (TestMixer down = TestMixer.start(config, new TracingOptions(
            "http://127.0.0.1:" + TestMixer.freePort() + "/api/v2/spans", 1.0f));
        MixerClient client = MixerClient.builder().target(down.target()).checkCache(false).build()) {
      for (int i = 0; i < 50; i++) {
        ScopedSpan caller = tracing.tracer().startScopedSpan("get /productpage");
        try {
          CheckResult r = client.check(productpageToRatings("jason"));
          assertThat(r).isEqualTo(CheckResult.ok(CheckResult.Source.MIXER));
        } finally {
          caller.finish();
        }
      }
      assertThat(client.stats().failedOpen()).isZero();
    }
  }
}
