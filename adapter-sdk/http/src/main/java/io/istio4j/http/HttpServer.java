package io.istio4j.http;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.WriteTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small HTTP/1.1 server for monitoring endpoints ({@code /metrics}, {@code /healthz},
 * {@code /readyz}), on Netty. Built to stay up next to hostile or broken clients:
 *
 * <ul>
 *   <li>a connection must deliver a complete request within the read timeout (counted from when it
 *       opened, or from the end of its previous response when kept alive), else it is closed, so a
 *       client that connects and sends nothing, or half a request, holds a slot for that long only;
 *   <li>at most {@code maxConnections} connections are open; more are closed at once;
 *   <li>the request line, the headers and the body are each bounded by {@code maxRequestBytes}
 *       (414, 431 and 413 beyond);
 *   <li>{@linkplain Builder#route ordinary routes} run on a few handler threads with a bounded
 *       queue (503 when it is full), never on the I/O thread, while {@linkplain Builder#fastRoute
 *       fast routes} (health checks) answer on the I/O thread, so they answer even while every
 *       handler thread renders a slow scrape;
 *   <li>only GET and HEAD (405 otherwise, 404 for unknown paths); keep-alive; responses are sent
 *       whole with their {@code Content-Length}, gzipped when the client accepts it.
 * </ul>
 *
 * <pre>{@code
 * HttpServer server = HttpServer.builder("monitoring")
 *     .address("", 9093, "--monitoringPort")
 *     .fastRoute("/healthz", request -> HttpResponse.text(200, "ok\n"))
 *     .route("/metrics", request -> HttpResponse.of(200, contentType, render()))
 *     .start();
 * }</pre>
 */
public final class HttpServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HttpServer.class);

  private final String name;
  private final EventLoopGroup group;
  private final ThreadPoolExecutor handlers;
  private final Channel channel;
  private final InetSocketAddress address;

  private HttpServer(String name, EventLoopGroup group, ThreadPoolExecutor handlers, Channel channel) {
    this.name = name;
    this.group = group;
    this.handlers = handlers;
    this.channel = channel;
    this.address = (InetSocketAddress) channel.localAddress();
  }

  /**
   * A builder for a server called {@code name} (one word, such as {@code monitoring}), the name its
   * threads, logs and errors use.
   */
  public static Builder builder(String name) {
    requireNonNull(name, "name");
    if (name.isEmpty() || name.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("name: '" + name + "' (expected: one word, such as monitoring)");
    }
    return new Builder(name);
  }

  /** The port the server listens on (the chosen one when built with port 0). */
  public int port() {
    return address.getPort();
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return address;
  }

  /** Stops listening and closes every connection; in-flight handlers are interrupted. */
  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    handlers.shutdownNow();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Override
  public String toString() {
    return "HttpServer{" + name + " on " + ListenAddress.describe(address) + "}";
  }

  /**
   * Configures and starts an {@link HttpServer}. The defaults suit a monitoring port that a few
   * scrapers and probes use.
   */
  public static final class Builder {

    /** Time a connection gets to deliver a complete request: 10 seconds. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);
    /** Time a response may take to be written to a slow reader: 30 seconds. */
    public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
    /** Open connections allowed: 64. */
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** Bound on the request line, on the headers and on the body, each: 8 KiB. */
    public static final int DEFAULT_MAX_REQUEST_BYTES = 8192;
    /** Threads that run ordinary routes: 2. */
    public static final int DEFAULT_HANDLER_THREADS = 2;
    /** Requests that may wait for a handler thread before the server answers 503: 16. */
    public static final int DEFAULT_HANDLER_QUEUE = 16;

    private final String name;
    private final Map<String, Route> routes = new LinkedHashMap<>();
    private String host = "";
    private int port;
    private String setting;
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;
    private int maxConnections = DEFAULT_MAX_CONNECTIONS;
    private int maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES;
    private int handlerThreads = DEFAULT_HANDLER_THREADS;
    private int handlerQueue = DEFAULT_HANDLER_QUEUE;

    private Builder(String name) {
      this.name = name;
    }

    /**
     * Where to listen: {@code host} (a name or an IP address; empty for all interfaces, the
     * default) and {@code port} (0 picks a free one, the default).
     */
    public Builder address(String host, int port) {
      return address(host, port, null);
    }

    /**
     * Where to listen, and the setting that chose it, which errors name: with {@code
     * "--monitoringPort"}, a busy port fails with {@code cannot listen on 0.0.0.0:9093 (monitoring
     * --monitoringPort): Address already in use}.
     */
    public Builder address(String host, int port, String setting) {
      requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
      }
      this.host = host.strip();
      this.port = port;
      this.setting = setting;
      return this;
    }

    /** Serves {@code path} with {@code handler} on a handler thread; it may block and take time. */
    public Builder route(String path, HttpHandler handler) {
      return add(path, handler, false);
    }

    /**
     * Serves {@code path} with {@code handler} on the I/O thread: for answers that are cheap and
     * never block (a health check reading a flag), which then stay prompt while slow routes
     * occupy every handler thread.
     */
    public Builder fastRoute(String path, HttpHandler handler) {
      return add(path, handler, true);
    }

    /** Time a connection gets to deliver a complete request; default {@link #DEFAULT_READ_TIMEOUT}. */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = positive("readTimeout", timeout);
      return this;
    }

    /** Time a response may take to be written; default {@link #DEFAULT_WRITE_TIMEOUT}. */
    public Builder writeTimeout(Duration timeout) {
      this.writeTimeout = positive("writeTimeout", timeout);
      return this;
    }

    /** Open connections allowed; default {@link #DEFAULT_MAX_CONNECTIONS}. */
    public Builder maxConnections(int max) {
      this.maxConnections = atLeast("maxConnections", max, 1);
      return this;
    }

    /** Bound on the request line, the headers and the body; default {@link #DEFAULT_MAX_REQUEST_BYTES}. */
    public Builder maxRequestBytes(int max) {
      this.maxRequestBytes = atLeast("maxRequestBytes", max, 256);
      return this;
    }

    /** Threads for ordinary routes; default {@link #DEFAULT_HANDLER_THREADS}. */
    public Builder handlerThreads(int threads) {
      this.handlerThreads = atLeast("handlerThreads", threads, 1);
      return this;
    }

    /** Requests that may wait for a handler thread; default {@link #DEFAULT_HANDLER_QUEUE}. */
    public Builder handlerQueue(int size) {
      this.handlerQueue = atLeast("handlerQueue", size, 1);
      return this;
    }

    /**
     * Starts the server.
     *
     * @throws IOException when it cannot listen; the message names the address, the server and
     *     the setting, as in {@code cannot listen on 0.0.0.0:9093 (monitoring --monitoringPort):
     *     Address already in use} (a {@link BindException} then)
     */
    public HttpServer start() throws IOException {
      String label = setting == null ? name : name + " " + setting;
      InetSocketAddress address = ListenAddress.resolve(host, port, label);
      ThreadPoolExecutor handlers = new ThreadPoolExecutor(handlerThreads, handlerThreads, 30, TimeUnit.SECONDS,
          new ArrayBlockingQueue<>(handlerQueue), new DefaultThreadFactory("http-" + name + "-handler", true));
      handlers.allowCoreThreadTimeOut(true);
      EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
          new DefaultThreadFactory("http-" + name, true), NioIoHandler.newFactory());
      Connections connections = new Connections(name, maxConnections);
      HttpConnection.Settings settings = new HttpConnection.Settings(name, Map.copyOf(routes), handlers,
          readTimeout.toNanos());
      HttpDecoderConfig decoder = new HttpDecoderConfig()
          .setMaxInitialLineLength(maxRequestBytes)
          .setMaxHeaderSize(maxRequestBytes)
          .setMaxChunkSize(maxRequestBytes);
      long writeTimeoutMillis = writeTimeout.toMillis();
      int maxBody = maxRequestBytes;
      ServerBootstrap bootstrap = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .option(ChannelOption.SO_BACKLOG, 128)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              if (!connections.admit(ch)) {
                return;
              }
              ch.pipeline()
                  .addLast("write-timeout", new WriteTimeoutHandler(writeTimeoutMillis, TimeUnit.MILLISECONDS))
                  .addLast("codec", new HttpServerCodec(decoder))
                  .addLast("aggregator", new HttpObjectAggregator(maxBody, true))
                  .addLast("handler", new HttpConnection(settings));
            }
          });
      ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
      if (!bound.isSuccess()) {
        handlers.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        throw ListenAddress.cannotListen(address, label, bound.cause());
      }
      HttpServer server = new HttpServer(name, group, handlers, bound.channel());
      log.debug("{}: listening on {}", name, ListenAddress.describe(server.address()));
      return server;
    }

    private Builder add(String path, HttpHandler handler, boolean fast) {
      requireNonNull(path, "path");
      requireNonNull(handler, "handler");
      if (!path.startsWith("/")) {
        throw new IllegalArgumentException("path: '" + path + "' (expected: starting with /)");
      }
      if (routes.putIfAbsent(path, new Route(handler, fast)) != null) {
        throw new IllegalArgumentException("path: '" + path + "' (expected: each path routed once)");
      }
      return this;
    }

    private static Duration positive(String name, Duration d) {
      requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: > 0)");
      }
      return d;
    }

    private static int atLeast(String name, int value, int min) {
      if (value < min) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + min + ")");
      }
      return value;
    }
  }

  /** A path's handler and where it runs. */
  record Route(HttpHandler handler, boolean fast) {}

  /** Counts open connections and turns away those beyond the bound. */
  private static final class Connections {
    private final String name;
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final RateLimit warnings = new RateLimit(Duration.ofMinutes(1));

    Connections(String name, int max) {
      this.name = name;
      this.max = max;
    }

    boolean admit(Channel ch) {
      int now = open.incrementAndGet();
      ch.closeFuture().addListener(f -> open.decrementAndGet());
      if (now <= max) {
        return true;
      }
      // Closing at once costs nothing more; answering would mean reading a request first.
      ch.close();
      if (warnings.tryAcquire()) {
        log.warn("{}: {} connections open (expected: at most {}); closing new ones from {} and others"
            + " until some close (logged at most once a minute)", name, now - 1, max, ch.remoteAddress());
      }
      return false;
    }
  }
}
