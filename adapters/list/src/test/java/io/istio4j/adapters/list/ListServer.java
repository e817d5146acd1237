package io.istio4j.adapters.list;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** A list provider on a free local port: serves one body (or a failure status) at /list. */
final class ListServer implements AutoCloseable {

  private final HttpServer server;
  private final AtomicInteger requests = new AtomicInteger();
  private volatile int status = 200;
  private volatile String body = "";

  ListServer(String body) {
    this.body = body;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/list", exchange -> {
      requests.incrementAndGet();
      byte[] bytes = (status == 200 ? this.body : "provider broken").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    server.start();
  }

  /** The list's URL. */
  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/list";
  }

  /** Serves {@code newBody} with 200 from now on. */
  void serve(String newBody) {
    body = newBody;
    status = 200;
  }

  /** Answers every request with {@code code} (and no list) from now on. */
  void fail(int code) {
    status = code;
  }

  /** How many requests reached the server. */
  int requests() {
    return requests.get();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
