package io.istio4j.http;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HttpServerTest {

  /** How long a test waits for an answer: an answer that does not come in this time is a failure. */
  private static final Duration PROMPTLY = Duration.ofSeconds(2);
  /** How long a test waits for the server to close a stalled connection (read timeout 1 s there). */
  private static final int CLOSE_WAIT_MILLIS = 15_000;

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(PROMPTLY).build();
  private final List<Socket> sockets = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer server;

  @AfterEach
  void tearDown() throws IOException {
    release.countDown();
    for (Socket s : sockets) {
      s.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private HttpServer.Builder monitoring() {
    return HttpServer.builder("test")
        .address("127.0.0.1", 0)
        .fastRoute("/healthz", request -> HttpResponse.text(200, "ok\n"))
        .route("/slow", request -> {
          release.await();
          return HttpResponse.text(200, "slow\n");
        })
        .route("/big", request -> HttpResponse.of(200, "text/plain", "x".repeat(100_000).getBytes(UTF_8)))
        .route("/fails", request -> {
          throw new IllegalStateException("registry is closed");
        })
        .route("/huge", request -> {
          throw new OutOfMemoryError("Requested array size exceeds VM limit");
        });
  }

  private java.net.http.HttpResponse<String> get(String path) throws Exception {
    return client.send(java.net.http.HttpRequest.newBuilder(uri(path)).timeout(PROMPTLY).build(),
        BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", server.port());
    s.setSoTimeout(CLOSE_WAIT_MILLIS);
    sockets.add(s);
    return s;
  }

  /** True when the server closed the connection (end of stream or reset) before the wait ran out. */
  private static boolean closedByServer(Socket s) throws IOException {
    try {
      InputStream in = s.getInputStream();
      while (in.read() >= 0) {
        // skip a response, if any, up to the close
      }
      return true;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (SocketException reset) {
      return true;
    }
  }

  private static String exchange(Socket s, String request) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(request.getBytes(US_ASCII));
    out.flush();
    ByteArrayOutputStream received = new ByteArrayOutputStream();
    InputStream in = s.getInputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        received.write(buffer, 0, n);
      }
    } catch (SocketException reset) {
      // what arrived before the reset is the answer
    }
    return received.toString(US_ASCII);
  }

  @Test
  void servesGetAndHeadAnd404And405() throws Exception {
    server = monitoring().start();

    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/healthz").body()).isEqualTo("ok\n");
    assertThat(get("/healthz?verbose=1").statusCode()).isEqualTo(200);

    var head = client.send(java.net.http.HttpRequest.newBuilder(uri("/healthz")).timeout(PROMPTLY)
        .method("HEAD", BodyPublishers.noBody()).build(), BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("content-length")).hasValue("3");
    assertThat(head.body()).isEmpty();

    var missing = get("/nothing");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).contains("/healthz");

    var post = client.send(java.net.http.HttpRequest.newBuilder(uri("/healthz")).timeout(PROMPTLY)
        .POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
  }

  @Test
  void keepsConnectionsAliveAndAnswersPipelinedRequestsInOrder() throws Exception {
    server = monitoring().start();
    Socket s = connect();

    String answers = exchange(s, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        + "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

    assertThat(answers).startsWith("HTTP/1.1 200 OK");
    int healthz = answers.indexOf("\r\n\r\nok\n");
    int missing = answers.indexOf("HTTP/1.1 404");
    assertThat(answers.indexOf("x".repeat(100_000))).isPositive().isLessThan(healthz);
    assertThat(healthz).isLessThan(missing);
  }

  @Test
  void stalledConnectionsDoNotBlockHealthChecksAndAreClosedAfterTheReadTimeout() throws Exception {
    server = monitoring().readTimeout(Duration.ofSeconds(1)).start();
    List<Socket> silent = new ArrayList<>();
    List<Socket> halfRequest = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      silent.add(connect());
      Socket half = connect();
      half.getOutputStream().write("GET /healthz HTT".getBytes(US_ASCII));
      half.getOutputStream().flush();
      halfRequest.add(half);
    }

    assertThat(get("/healthz").statusCode()).isEqualTo(200);

    for (Socket s : silent) {
      assertThat(closedByServer(s)).as("a connection that sent nothing is closed").isTrue();
    }
    for (Socket s : halfRequest) {
      assertThat(closedByServer(s)).as("a connection that sent half a request is closed").isTrue();
    }
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void fastRoutesAnswerWhileEverySlowHandlerIsBusy() throws Exception {
    server = monitoring().handlerThreads(2).start();
    var slow = new ArrayList<CompletableFuture<java.net.http.HttpResponse<String>>>();
    for (int i = 0; i < 2; i++) {
      slow.add(client.sendAsync(java.net.http.HttpRequest.newBuilder(uri("/slow")).build(), BodyHandlers.ofString()));
    }

    assertThat(get("/healthz").statusCode()).isEqualTo(200);

    release.countDown();
    for (var f : slow) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void answers503WhenTheHandlerQueueIsFull() throws Exception {
    server = monitoring().handlerThreads(1).handlerQueue(1).start();
    Socket first = connect();
    first.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(US_ASCII));
    Socket queued = connect();
    queued.getOutputStream().write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(US_ASCII));
    // Both are taken (one running, one queued) once a third is refused; retry until the two arrived.
    int status = 0;
    for (int i = 0; i < 100 && status != 503; i++) {
      status = get("/big").statusCode();
      if (status != 503) {
        Thread.sleep(20);
      }
    }
    assertThat(status).isEqualTo(503);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    release.countDown();
    assertThat(exchange(first, "")).startsWith("HTTP/1.1 200");
  }

  @Test
  void closesConnectionsBeyondTheLimitAtOnce() throws Exception {
    server = monitoring().maxConnections(3).start();
    List<Socket> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Socket s = connect();
      // an answered request proves the server counted this connection
      s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(US_ASCII));
      byte[] buffer = new byte[256];
      assertThat(s.getInputStream().read(buffer)).isPositive();
      held.add(s);
    }

    Socket extra = connect();
    assertThat(closedByServer(extra)).isTrue();

    held.get(0).close();
    int status = 0;
    for (int i = 0; i < 100 && status != 200; i++) {
      try {
        status = get("/healthz").statusCode();
      } catch (IOException refused) {
        Thread.sleep(20); // until the server has seen the close
      }
    }
    assertThat(status).isEqualTo(200);
  }

  @Test
  void refusesOversizedRequestLinesHeadersAndBodies() throws Exception {
    server = monitoring().maxRequestBytes(1024).start();

    assertThat(exchange(connect(), "GET /healthz?" + "q".repeat(2000) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
        .startsWith("HTTP/1.1 414");
    assertThat(exchange(connect(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "h".repeat(2000) + "\r\n\r\n"))
        .startsWith("HTTP/1.1 431");
    assertThat(exchange(connect(), "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
        + "Connection: close\r\n\r\n" + "b".repeat(5000))).startsWith("HTTP/1.1 413");
    assertThat(exchange(connect(), "NONSENSE\r\n\r\n")).startsWith("HTTP/1.1 400");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void aFailingHandlerAnswers500WithItsMessage() throws Exception {
    server = monitoring().start();

    var failed = get("/fails");
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(failed.body()).isEqualTo("cannot answer /fails: registry is closed\n");
    var huge = get("/huge");
    assertThat(huge.statusCode()).isEqualTo(500);
    assertThat(huge.body()).contains("Requested array size exceeds VM limit");
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void gzipsLargeBodiesForClientsThatAcceptIt() throws Exception {
    server = monitoring().start();

    var response = client.send(java.net.http.HttpRequest.newBuilder(uri("/big")).timeout(PROMPTLY)
        .header("Accept-Encoding", "gzip").build(), BodyHandlers.ofByteArray());

    assertThat(response.headers().firstValue("content-encoding")).hasValue("gzip");
    assertThat(response.headers().firstValue("content-length")).hasValue(String.valueOf(response.body().length));
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
      assertThat(new String(in.readAllBytes(), UTF_8)).isEqualTo("x".repeat(100_000));
    }
  }

  @Test
  void aBusyPortIsNamedInTheError() throws Exception {
    server = monitoring().start();

    assertThatThrownBy(() -> HttpServer.builder("monitoring").address("127.0.0.1", server.port(), "--monitoringPort")
        .start())
        .isInstanceOf(BindException.class)
        .hasMessage("cannot listen on 127.0.0.1:" + server.port() + " (monitoring --monitoringPort): "
            + "Address already in use");
  }

  @Test
  void anUnknownHostIsNamedInTheError() {
    assertThatThrownBy(() -> HttpServer.builder("monitoring").address("no-such-host.invalid", 9093).start())
        .isInstanceOf(UnknownHostException.class)
        .hasMessageStartingWith("cannot listen on no-such-host.invalid:9093 (monitoring): unknown host");
  }

  @Test
  void describesAddressesAsOperatorsWriteThem() {
    assertThat(ListenAddress.describe(new InetSocketAddress("127.0.0.1", 9093))).isEqualTo("127.0.0.1:9093");
    assertThat(ListenAddress.describe(new InetSocketAddress("::1", 9093))).isEqualTo("[::1]:9093");
    assertThat(ListenAddress.describe(new InetSocketAddress("fe80:0:0:0:1:0:0:2", 80))).isEqualTo("[fe80::1:0:0:2]:80");
    assertThat(ListenAddress.describe(new InetSocketAddress("2001:db8:1:2:3:4:5:6", 80)))
        .isEqualTo("[2001:db8:1:2:3:4:5:6]:80");
    assertThat(ListenAddress.describe(new InetSocketAddress("::", 9093))).isEqualTo("0.0.0.0:9093");
    assertThat(ListenAddress.describe(new InetSocketAddress(9093))).isEqualTo("0.0.0.0:9093");
  }
}
