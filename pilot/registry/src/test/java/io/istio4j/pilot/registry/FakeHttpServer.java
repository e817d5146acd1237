package io.istio4j.pilot.registry;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A programmable HTTP server on a free loopback port: each path answers with the {@link Reply} set
 * for it (404 otherwise), and requests are counted per path.
 */
final class FakeHttpServer implements AutoCloseable {
  /**
   * What a path answers: a status, a body, optionally a pause before answering, and whether the body
   * is sent chunked (no Content-Length).
   */
  record Reply(int status, byte[] body, long delayMillis, boolean chunked) {
    Reply(int status, byte[] body, long delayMillis) {
      this(status, body, delayMillis, false);
    }

    static Reply json(String body) {
      return new Reply(200, body.getBytes(UTF_8), 0);
    }

    static Reply status(int status) {
      return new Reply(status, ("status " + status).getBytes(UTF_8), 0);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "fake-http");
    t.setDaemon(true);
    return t;
  });
  private final Map<String, Reply> replies = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

  FakeHttpServer() throws IOException {
    this(0);
  }

  FakeHttpServer(int port) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  int port() {
    return server.getAddress().getPort();
  }

  void reply(String path, Reply reply) {
    replies.put(path, reply);
  }

  long requests(String path) {
    AtomicLong n = counts.get(path);
    return n == null ? 0 : n.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    counts.computeIfAbsent(path, p -> new AtomicLong()).incrementAndGet();
    Reply r = replies.getOrDefault(path, Reply.status(404));
    try {
      if (r.delayMillis() > 0) {
        Thread.sleep(r.delayMillis());
      }
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(r.status(), r.chunked() ? 0 : r.body().length == 0 ? -1 : r.body().length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(r.body());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the client went away
    } finally {
      exchange.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
