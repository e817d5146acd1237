package io.istio4j.pilot.injector;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.istio4j.http.ListenAddress;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.WriteTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The injection webhook's HTTPS server: {@code POST /inject} answers AdmissionReviews with an {@link
 * AdmissionHandler}; {@code GET /healthz} and {@code /readyz} serve probes. The same design as
 * mixs's validating webhook server (see docs/RATIONALE.md), built to stay up next to broken or
 * hostile clients:
 *
 * <ul>
 *   <li>a connection must finish its TLS handshake within the handshake timeout, and then deliver
 *       each complete request within the read timeout (from the handshake, or from its previous
 *       response), else it is closed: a client that trickles bytes holds a slot for that long only;
 *   <li>at most {@code maxConnections} connections; the request line and headers are bounded to 8
 *       KiB and the body to {@code maxRequestBytes} (413 beyond, before it is read), so memory is
 *       bounded by connections times body size;
 *   <li>reviews run on a small pool with a bounded queue (503 when full), never on the I/O thread;
 *   <li>wrong method 405, wrong path 404, a body that is not {@code application/json} 415, a body
 *       that is not an AdmissionReview 400 with the reason; the server keeps serving.
 * </ul>
 *
 * <p>The certificate and key are read again when their files change (checked at most every 10
 * seconds, as connections arrive), so a rotated certificate (cert-manager, a Secret volume) is
 * used without a restart.
 */
public final class InjectorServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InjectorServer.class);
  private static final Duration CERT_CHECK_INTERVAL = Duration.ofSeconds(10);
  private static final int MAX_HEADER_BYTES = 8192;

  /**
   * How the server listens and what it tolerates.
   *
   * @param host the address to listen on; empty for all interfaces
   * @param port the port; 0 picks a free one
   * @param certFile the PEM certificate chain
   * @param keyFile the PEM private key (PKCS#8)
   * @param maxRequestBytes the largest body accepted
   * @param handshakeTimeout how long a new connection has to finish its TLS handshake
   * @param readTimeout how long a connection has, after its handshake or its previous response,
   *     to deliver a complete request
   * @param maxConnections open connections allowed
   * @param threads threads running reviews
   * @param queue reviews that may wait for a thread
   */
  public record Options(String host, int port, Path certFile, Path keyFile, int maxRequestBytes,
      Duration handshakeTimeout, Duration readTimeout, int maxConnections, int threads, int queue) {
    /** Checks the parts. */
    public Options {
      requireNonNull(host, "host");
      requireNonNull(certFile, "certFile");
      requireNonNull(keyFile, "keyFile");
      requireNonNull(readTimeout, "readTimeout");
      requireNonNull(handshakeTimeout, "handshakeTimeout");
      if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
        throw new IllegalArgumentException("handshakeTimeout: " + handshakeTimeout + " (expected: > 0)");
      }
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
      }
      if (maxRequestBytes < 1024) {
        throw new IllegalArgumentException("maxRequestBytes: " + maxRequestBytes + " (expected: >= 1024)");
      }
      if (readTimeout.isNegative() || readTimeout.isZero()) {
        throw new IllegalArgumentException("readTimeout: " + readTimeout + " (expected: > 0)");
      }
      if (maxConnections < 1 || threads < 1 || queue < 1) {
        throw new IllegalArgumentException("maxConnections " + maxConnections + ", threads " + threads + ", queue "
            + queue + " (expected: each >= 1)");
      }
    }

    /**
     * 3 MiB bodies (the API server's own request limit), 10 s for the handshake and 10 s for each
     * request, 32 connections, 2 review threads.
     */
    public static Options of(String host, int port, Path certFile, Path keyFile) {
      return new Options(host, port, certFile, keyFile, 3 * 1024 * 1024, Duration.ofSeconds(10),
          Duration.ofSeconds(10), 32, 2, 16);
    }

    /** A copy with other handshake and read timeouts. */
    public Options withTimeouts(Duration handshake, Duration read) {
      return new Options(host, port, certFile, keyFile, maxRequestBytes, handshake, read, maxConnections, threads,
          queue);
    }

    /** A copy allowing another number of open connections. */
    public Options withMaxConnections(int max) {
      return new Options(host, port, certFile, keyFile, maxRequestBytes, handshakeTimeout, readTimeout, max, threads,
          queue);
    }

    /** A copy with another body limit. */
    public Options withMaxRequestBytes(int max) {
      return new Options(host, port, certFile, keyFile, max, handshakeTimeout, readTimeout, maxConnections, threads,
          queue);
    }
  }

  private final Options options;
  private final AdmissionHandler reviewer;
  private final EventLoopGroup group;
  private final ThreadPoolExecutor workers;
  private final AtomicInteger open = new AtomicInteger();
  /** When the last too-many-connections warning was logged (nanoTime); at most one a minute. */
  private final AtomicLong lastRejectWarning = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));
  private final Channel channel;
  private volatile SslContext ssl;
  private volatile long certStamp;
  private volatile long nextCertCheck;

  private InjectorServer(Options options, AdmissionHandler reviewer) throws IOException {
    this.options = options;
    this.reviewer = reviewer;
    this.ssl = sslContext();
    this.certStamp = stamp();
    this.nextCertCheck = System.nanoTime() + CERT_CHECK_INTERVAL.toNanos();
    InetSocketAddress address = ListenAddress.resolve(options.host(), options.port(), "sidecar-injector --port");
    workers = new ThreadPoolExecutor(options.threads(), options.threads(), 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(options.queue()), new DefaultThreadFactory("injector-review", true));
    workers.allowCoreThreadTimeOut(true);
    group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("injector-io", true),
        NioIoHandler.newFactory());
    HttpDecoderConfig decoder = new HttpDecoderConfig().setMaxInitialLineLength(MAX_HEADER_BYTES)
        .setMaxHeaderSize(MAX_HEADER_BYTES).setMaxChunkSize(64 * 1024);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 128)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            int now = open.incrementAndGet();
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            if (now > options.maxConnections()) {
              ch.close();
              long last = lastRejectWarning.get();
              if (System.nanoTime() - last >= TimeUnit.MINUTES.toNanos(1)
                  && lastRejectWarning.compareAndSet(last, System.nanoTime())) {
                log.warn("injector: {} connections open (expected: at most {}); closing new ones (logged at most "
                    + "once a minute)", now - 1, options.maxConnections());
              }
              return;
            }
            SslHandler tls = currentSsl().newHandler(ch.alloc());
            tls.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
            ch.pipeline()
                .addLast("tls", tls)
                .addLast("write-timeout", new WriteTimeoutHandler(30, TimeUnit.SECONDS))
                .addLast("codec", new HttpServerCodec(decoder))
                .addLast("aggregator", new HttpObjectAggregator(options.maxRequestBytes(), true))
                .addLast("handler", new Connection());
          }
        });
    ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      workers.shutdownNow();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw ListenAddress.cannotListen(address, "sidecar-injector --port", bound.cause());
    }
    channel = bound.channel();
  }

  /**
   * Starts serving.
   *
   * @throws IOException when the certificate or key cannot be read, or the port cannot be bound
   */
  public static InjectorServer start(Options options, AdmissionHandler reviewer) throws IOException {
    return new InjectorServer(requireNonNull(options, "options"), requireNonNull(reviewer, "reviewer"));
  }

  /** The port in use. */
  public int port() {
    return ((InetSocketAddress) channel.localAddress()).getPort();
  }

  private SslContext sslContext() throws IOException {
    try {
      return SslContextBuilder.forServer(options.certFile().toFile(), options.keyFile().toFile()).build();
    } catch (IOException | RuntimeException e) {
      throw new IOException("injector: cannot use certificate " + options.certFile() + " and key "
          + options.keyFile() + ": " + e.getMessage() + " (expected: a PEM certificate chain and a PEM PKCS#8 key; "
          + "convert a PKCS#1 'RSA PRIVATE KEY' with: openssl pkcs8 -topk8 -nocrypt -in KEY)", e);
    }
  }

  private long stamp() {
    try {
      return Files.getLastModifiedTime(options.certFile()).toMillis() * 31
          + Files.getLastModifiedTime(options.keyFile()).toMillis();
    } catch (IOException e) {
      return certStamp;
    }
  }

  /** The TLS context, read again when the files changed (checked at most every 10 s). */
  private SslContext currentSsl() {
    long now = System.nanoTime();
    if (now - nextCertCheck < 0) {
      return ssl;
    }
    nextCertCheck = now + CERT_CHECK_INTERVAL.toNanos();
    long s = stamp();
    if (s != certStamp) {
      try {
        ssl = sslContext();
        certStamp = s;
        log.info("injector: certificate {} changed; new connections use it", options.certFile());
      } catch (IOException e) {
        // Half-written during a rotation, perhaps: keep the one in use and look again later.
        log.warn("{}; the certificate in use stays", e.getMessage());
      }
    }
    return ssl;
  }

  /** One connection: requests one at a time, each within the read timeout. */
  private final class Connection extends SimpleChannelInboundHandler<FullHttpRequest> {
    private ScheduledFuture<?> deadline;
    /** A request is being answered; a pipelined one meanwhile ends the connection (no client needs it). */
    private boolean answering;

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
      if (event instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
        arm(ctx); // the handshake had its own timeout; now the request's starts
      }
      super.userEventTriggered(ctx, event);
    }

    private void arm(ChannelHandlerContext ctx) {
      deadline = ctx.executor().schedule(() -> {
        ctx.close();
      }, options.readTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private void disarm() {
      if (deadline != null) {
        deadline.cancel(false);
        deadline = null;
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      disarm();
      super.channelInactive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (answering) {
        ctx.close();
        return;
      }
      answering = true;
      disarm();
      ctx.channel().config().setAutoRead(false); // one request at a time
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      if (!request.decoderResult().isSuccess()) {
        send(ctx, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8",
            bytes("malformed HTTP request: " + request.decoderResult().cause() + "\n"), false);
        return;
      }
      String path = request.uri();
      int q = path.indexOf('?');
      if (q >= 0) {
        path = path.substring(0, q);
      }
      switch (path) {
        case "/healthz" -> send(ctx, HttpResponseStatus.OK, "text/plain; charset=utf-8", bytes("ok\n"), keepAlive);
        // The template and mesh config were checked before the port opened: listening means ready.
        case "/readyz" -> send(ctx, HttpResponseStatus.OK, "text/plain; charset=utf-8", bytes("ready\n"), keepAlive);
        case "/inject" -> inject(ctx, request, keepAlive);
        default -> send(ctx, HttpResponseStatus.NOT_FOUND, "text/plain; charset=utf-8",
            bytes("no such path: " + path + " (expected: /inject, /healthz, /readyz)\n"), keepAlive);
      }
    }

    private void inject(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) {
      if (!HttpMethod.POST.equals(request.method())) {
        send(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
            bytes("method " + request.method() + " (expected: POST)\n"), keepAlive);
        return;
      }
      String type = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
      String mime = type.split(";", 2)[0].strip();
      if (!mime.equalsIgnoreCase("application/json")) {
        send(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "text/plain; charset=utf-8",
            bytes("content type '" + type + "' (expected: application/json)\n"), keepAlive);
        return;
      }
      byte[] body = ByteBufUtil.getBytes(request.content());
      try {
        workers.execute(() -> {
          HttpResponseStatus status;
          String contentType = "application/json";
          byte[] answer;
          try {
            answer = reviewer.review(body);
            status = HttpResponseStatus.OK;
          } catch (AdmissionHandler.BadReviewException e) {
            status = HttpResponseStatus.BAD_REQUEST;
            contentType = "text/plain; charset=utf-8";
            answer = bytes("not an AdmissionReview: " + e.getMessage() + "\n");
          } catch (RuntimeException | StackOverflowError e) {
            log.error("injector: reviewing a request failed", e);
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
            contentType = "text/plain; charset=utf-8";
            answer = bytes("review failed: " + e + "\n");
          }
          HttpResponseStatus s = status;
          String t = contentType;
          byte[] a = answer;
          ctx.executor().execute(() -> send(ctx, s, t, a, keepAlive));
        });
      } catch (RejectedExecutionException e) {
        send(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
            bytes("injector busy: too many reviews waiting; retry\n"), keepAlive);
      }
    }

    private void send(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, byte[] body,
        boolean keepAlive) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.wrappedBuffer(body));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
      HttpUtil.setContentLength(response, body.length);
      HttpUtil.setKeepAlive(response, keepAlive);
      answering = false;
      ChannelFuture written = ctx.writeAndFlush(response);
      if (!keepAlive) {
        written.addListener(ChannelFutureListener.CLOSE);
        return;
      }
      written.addListener(f -> {
        if (f.isSuccess() && ctx.channel().isActive()) {
          arm(ctx);
          ctx.channel().config().setAutoRead(true);
          ctx.read();
        }
      });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // TLS garbage, a reset, a write timeout: this connection ends, the server goes on.
      log.debug("injector: connection from {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(UTF_8);
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    workers.shutdownNow();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
