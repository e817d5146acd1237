package io.istio4j.mixerclient.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import io.istio4j.mixerclient.MixerClient;
import io.istio4j.mixerclient.TestMixer;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A servlet application in embedded Jetty (a real servlet container) behind the filter and a real Mixer. */
class MixerFilterIT {

  @TempDir
  static Path dir;

  static TestMixer mixer;
  static MixerClient client;
  static Server jetty;
  static String base;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    mixer = TestMixer.start(dir);
    client = MixerClient.builder().target(mixer.target()).reportBatch(1000, Duration.ofMillis(10)).build();
    ServletContextHandler app = new ServletContextHandler();
    app.addServlet(new ServletHolder(new HttpServlet() {
      @Override
      protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/plain");
        resp.getWriter().write("hello " + req.getRequestURI());
      }
    }), "/hello/*");
    ServletHolder async = new ServletHolder(new HttpServlet() {
      @Override
      protected void doGet(HttpServletRequest req, HttpServletResponse resp) {
        AsyncContext ctx = req.startAsync();
        ctx.start(() -> {
          try {
            ctx.getResponse().getOutputStream().write("later".getBytes());
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
          ctx.complete();
        });
      }
    });
    async.setAsyncSupported(true);
    app.addServlet(async, "/async");
    FilterHolder filter = new FilterHolder(new MixerFilter(client, "productpage.default.svc.cluster.local"));
    filter.setAsyncSupported(true);
    app.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
    // A second context configured the web.xml way: init parameters, the filter builds its own client.
    FilterHolder configured = new FilterHolder(MixerFilter.class);
    configured.setInitParameter("mixer", mixer.target());
    configured.setInitParameter("destinationService", "details.default.svc.cluster.local");
    configured.setInitParameter("failPolicy", "close");
    app.addFilter(configured, "/configured/*", EnumSet.of(DispatcherType.REQUEST));
    app.addServlet(new ServletHolder(new HttpServlet() {
      @Override
      protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.getOutputStream().write("configured".getBytes());
      }
    }), "/configured/*");

    jetty = new Server(new InetSocketAddress("127.0.0.1", 0));
    jetty.setHandler(app);
    jetty.start();
    base = "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
  }

  @AfterAll
  static void stop() throws Exception {
    jetty.stop();
    client.close();
    mixer.close();
  }

  static HttpResponse<String> get(String path, String user) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("x-user", user)
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void allowedRequestsAreServedAndReported() throws Exception {
    // Another test's request may still be completing (its Report is queued when it completes):
    // count from a quiet point, so exactly this test's two requests are counted.
    long before = quietReportCount();
    HttpResponse<String> r = get("/hello/world?q=1", "jason");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("hello /hello/world");
    assertThat(get("/hello/again", "jason").statusCode()).isEqualTo(200);
    assertThat(client.stats().checkCacheHits()).isGreaterThan(0);
    assertThat(quietReportCount() - before).isEqualTo(2);
  }

  /** The queued-report count once it has not moved for 300 ms. */
  static long quietReportCount() throws InterruptedException {
    long last = client.stats().reportsQueued();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      Thread.sleep(300);
      long now = client.stats().reportsQueued();
      if (now == last) {
        return now;
      }
      last = now;
    }
    return last;
  }

  @Test
  void deniedRequestsGet403WithMixersMessage() throws Exception {
    HttpResponse<String> r = get("/hello/world", "mallory");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).startsWith("PERMISSION_DENIED:").contains("Not allowed");
  }

  @Test
  void asyncRequestsAreReportedWhenTheyComplete() throws Exception {
    long before = quietReportCount();
    HttpResponse<String> r = get("/async", "jason");
    assertThat(r.body()).isEqualTo("later");
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (client.stats().reportsQueued() == before && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(client.stats().reportsQueued() - before).isEqualTo(1);
  }

  @Test
  void initParameterConfigurationWorks() throws Exception {
    assertThat(get("/configured/x", "jason").body()).isEqualTo("configured");
    assertThat(get("/configured/x", "mallory").statusCode()).isEqualTo(403);
  }
}
