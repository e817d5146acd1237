package io.istio4j.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection of an {@link HttpServer}: answers its requests one at a time and in order, and
 * closes it when a request does not arrive complete within the read timeout.
 *
 * <p>While a request is answered the connection reads nothing more (auto-read off), so a client
 * cannot queue work faster than it is done; requests it had already pipelined wait here, up to
 * {@link #MAX_PIPELINED}.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(HttpConnection.class);

  /** Pipelined requests a connection may have waiting; beyond this it is closed. */
  static final int MAX_PIPELINED = 16;
  /** Smaller bodies are sent as they are: gzip would gain a few bytes and cost a buffer. */
  static final int GZIP_MIN_BYTES = 1024;

  private static final RateLimit BUSY_WARNINGS = new RateLimit(Duration.ofMinutes(1));
  private static final RateLimit FAILURE_WARNINGS = new RateLimit(Duration.ofSeconds(10));

  /** What every connection of one server shares. */
  record Settings(String name, Map<String, HttpServer.Route> routes, Executor handlers, long readTimeoutNanos) {
    /** The paths, for a 404's body. */
    String paths() {
      return String.join(", ", new TreeSet<>(routes.keySet()));
    }
  }

  /** A request as this connection needs it once Netty's message is released. */
  private record Exchange(HttpRequest request, HttpVersion version, boolean keepAlive, boolean head,
      boolean acceptsGzip, Throwable failure) {}

  /** A rendered response, gzipped or not. */
  private record Reply(HttpResponse response, byte[] body, boolean gzipped) {
    static Reply of(HttpResponse response) {
      return new Reply(response, response.body(), false);
    }
  }

  private final Settings settings;
  private final ArrayDeque<Exchange> pipelined = new ArrayDeque<>();
  private ScheduledFuture<?> requestTimer;
  private boolean answering;

  HttpConnection(Settings settings) {
    this.settings = settings;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    awaitRequest(ctx);
    super.channelActive(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    pipelined.clear();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    Exchange exchange;
    try {
      exchange = exchange(request);
    } finally {
      request.release(); // no route reads a body
    }
    if (!answering) {
      answer(ctx, exchange);
    } else if (pipelined.size() < MAX_PIPELINED) {
      pipelined.add(exchange);
    } else {
      log.debug("{}: {} pipelined more than {} requests; closing", settings.name(), ctx.channel().remoteAddress(),
          MAX_PIPELINED);
      ctx.close();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Resets, write timeouts and the like: the client's problem, worth a DEBUG line only.
    log.debug("{}: closing connection from {}: {}", settings.name(), ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  private static Exchange exchange(FullHttpRequest request) {
    String uri = request.uri();
    // absolute-form (GET http://host:9093/metrics) names the same path
    if (uri.startsWith("http://") || uri.startsWith("https://")) {
      int slash = uri.indexOf('/', uri.indexOf("//") + 2);
      uri = slash < 0 ? "/" : uri.substring(slash);
    }
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    String query = q < 0 ? "" : uri.substring(q + 1);
    String method = request.method().name();
    String encoding = request.headers().get(HttpHeaderNames.ACCEPT_ENCODING);
    DecoderResult result = request.decoderResult();
    // A request that did not parse has no version of its own (Netty's placeholder says 1.0).
    HttpVersion version = result.isFailure() ? HttpVersion.HTTP_1_1 : request.protocolVersion();
    return new Exchange(new HttpRequest(method, path, query), version,
        HttpUtil.isKeepAlive(request), method.equals("HEAD"), encoding != null && encoding.contains("gzip"),
        result.isFailure() ? result.cause() : null);
  }

  private void answer(ChannelHandlerContext ctx, Exchange exchange) {
    cancelTimer();
    answering = true;
    ctx.channel().config().setAutoRead(false);
    if (exchange.failure() != null) {
      Throwable f = exchange.failure();
      int status = f instanceof TooLongHttpLineException ? 414
          : f instanceof TooLongHttpHeaderException ? 431
          : f instanceof TooLongFrameException ? 413
          : 400;
      write(ctx, exchange, Reply.of(HttpResponse.text(status, "bad request: " + f.getMessage() + "\n")), true);
      return;
    }
    HttpRequest request = exchange.request();
    HttpServer.Route route = settings.routes().get(request.path());
    if (route == null) {
      write(ctx, exchange, Reply.of(HttpResponse.text(404, "not found; try " + settings.paths() + "\n")), false);
      return;
    }
    if (!request.method().equals("GET") && !exchange.head()) {
      write(ctx, exchange, Reply.of(HttpResponse.text(405, request.method()
          + " is not allowed (expected: GET or HEAD)\n")), false);
      return;
    }
    if (route.fast()) {
      write(ctx, exchange, render(route.handler(), exchange), false);
      return;
    }
    try {
      settings.handlers().execute(() -> {
        Reply reply = render(route.handler(), exchange);
        try {
          ctx.executor().execute(() -> write(ctx, exchange, reply, false));
        } catch (RejectedExecutionException closing) {
          // the server is closing; so is this connection
        }
      });
    } catch (RejectedExecutionException busy) {
      if (BUSY_WARNINGS.tryAcquire()) {
        log.warn("{}: every handler thread is busy and the queue is full; answering 503 to {} {} and others "
            + "(logged at most once a minute)", settings.name(), request.method(), request.path());
      }
      write(ctx, exchange, Reply.of(HttpResponse.text(503, "busy; try again\n")), false);
    }
  }

  /** Runs the handler; any failure, even running out of memory while rendering, becomes a 500. */
  private Reply render(HttpHandler handler, Exchange exchange) {
    HttpRequest request = exchange.request();
    HttpResponse response;
    try {
      response = handler.handle(request);
      if (response == null) {
        throw new IllegalStateException("the handler of " + request.path() + " returned no response");
      }
    } catch (Exception | OutOfMemoryError | StackOverflowError e) {
      // OutOfMemoryError included: a scrape too large to render must not kill the server
      // (the buffer that failed is garbage again at once).
      if (FAILURE_WARNINGS.tryAcquire()) {
        log.warn("{}: {} {} failed", settings.name(), request.method(), request.path(), e);
      }
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      response = HttpResponse.text(500, "cannot answer " + request.path() + ": " + message + "\n");
    }
    byte[] body = response.body();
    if (!exchange.acceptsGzip() || body.length < GZIP_MIN_BYTES) {
      return new Reply(response, body, false);
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 4 + 64);
      try (GZIPOutputStream gzip = new GZIPOutputStream(out, 8192)) {
        gzip.write(body);
      }
      return new Reply(response, out.toByteArray(), true);
    } catch (IOException | OutOfMemoryError e) {
      return new Reply(response, body, false); // identity is always acceptable
    }
  }

  /** Sends the reply whole, then answers the next pipelined request or waits for one. */
  private void write(ChannelHandlerContext ctx, Exchange exchange, Reply reply, boolean close) {
    boolean keepAlive = exchange.keepAlive() && !close;
    ByteBuf content = exchange.head() ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(reply.body());
    DefaultFullHttpResponse response = new DefaultFullHttpResponse(exchange.version(),
        HttpResponseStatus.valueOf(reply.response().status()), content);
    HttpHeaders headers = response.headers();
    headers.set(HttpHeaderNames.CONTENT_TYPE, reply.response().contentType());
    HttpUtil.setContentLength(response, reply.body().length);
    if (reply.response().length() >= GZIP_MIN_BYTES) {
      headers.set(HttpHeaderNames.VARY, HttpHeaderNames.ACCEPT_ENCODING);
    }
    if (reply.gzipped()) {
      headers.set(HttpHeaderNames.CONTENT_ENCODING, HttpHeaderValues.GZIP);
    }
    if (reply.response().status() == 405) {
      headers.set(HttpHeaderNames.ALLOW, "GET, HEAD");
    }
    HttpUtil.setKeepAlive(response, keepAlive);
    ctx.writeAndFlush(response).addListener(f -> {
      if (!f.isSuccess() || !keepAlive) {
        ctx.close();
        return;
      }
      answering = false;
      Exchange next = pipelined.poll();
      if (next != null) {
        answer(ctx, next);
      } else {
        awaitRequest(ctx);
        ctx.channel().config().setAutoRead(true);
      }
    });
  }

  /** Closes the connection unless a complete request arrives within the read timeout. */
  private void awaitRequest(ChannelHandlerContext ctx) {
    cancelTimer();
    requestTimer = ctx.executor().schedule(() -> {
      log.debug("{}: no complete request from {} within {} ms; closing", settings.name(),
          ctx.channel().remoteAddress(), TimeUnit.NANOSECONDS.toMillis(settings.readTimeoutNanos()));
      ctx.close();
    }, settings.readTimeoutNanos(), TimeUnit.NANOSECONDS);
  }

  private void cancelTimer() {
    if (requestTimer != null) {
      requestTimer.cancel(false);
      requestTimer = null;
    }
  }
}
