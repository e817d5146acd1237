package io.istio4j.mixerclient.servlet;

import static java.util.Objects.requireNonNull;

import io.istio4j.mixerclient.Attributes;
import io.istio4j.mixerclient.CheckResult;
import io.istio4j.mixerclient.FailPolicy;
import io.istio4j.mixerclient.MixerClient;
import io.istio4j.mixerclient.RequestAttributes;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Makes a Servlet application a Mixer client: each HTTP request is checked with Mixer before the
 * application sees it and reported after the response, with the attributes Envoy's mixer filter sets.
 *
 * <p>Before: {@code request.path} (path and query, as {@code :path}), {@code request.method},
 * {@code request.host}, {@code request.headers} (lower-cased names, plus {@code :authority},
 * {@code :path}, {@code :method}), {@code request.id} ({@code x-request-id}), {@code request.useragent},
 * {@code request.referer}, {@code request.scheme}, {@code request.size} (when the length is known),
 * {@code request.time}, {@code source.ip}, {@code source.port}, {@code destination.port},
 * {@code destination.service} (configured), {@code context.protocol} ({@code http}). A denial answers
 * the HTTP status Envoy maps Mixer's code to (PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429, NOT_FOUND
 * 404, ...) with the body {@code <CODE>:<Mixer's message>}. After: {@code response.code},
 * {@code response.size} (bytes written), {@code response.duration}, {@code response.time},
 * {@code response.headers}; for an async request, when it completes.
 *
 * <p>Programmatic registration (the filter uses the client it is given and does not close it):
 *
 * <pre>{@code
 * context.addFilter(new FilterHolder(new MixerFilter(mixer, "productpage.default.svc.cluster.local")),
 *     "/*", EnumSet.of(DispatcherType.REQUEST));
 * }</pre>
 *
 * <p>Or in {@code web.xml}, with init parameters {@code mixer} ({@code host:port}, required),
 * {@code destinationService} (required), {@code failPolicy} ({@code open}|{@code close}),
 * {@code quotaName} and {@code quotaAmount}: the filter then builds its own client and closes it in
 * {@link #destroy()}.
 */
public final class MixerFilter implements Filter {

  private @Nullable MixerClient mixer;
  private @Nullable MixerClient owned;
  private @Nullable String destinationService;
  private @Nullable String quotaName;
  private long quotaAmount;

  /** For {@code web.xml}: configured from init parameters in {@link #init}. */
  public MixerFilter() {}

  /** Checks and reports every request as {@code destinationService} through {@code mixer}, without quota. */
  public MixerFilter(MixerClient mixer, String destinationService) {
    this(mixer, destinationService, null, 0);
  }

  /** As {@link #MixerFilter(MixerClient, String)}, allocating {@code quotaAmount} of {@code quotaName}. */
  public MixerFilter(MixerClient mixer, String destinationService, @Nullable String quotaName, long quotaAmount) {
    this.mixer = requireNonNull(mixer, "mixer");
    this.destinationService = requireNonNull(destinationService, "destinationService");
    setQuota(quotaName, quotaAmount);
  }

  private void setQuota(@Nullable String name, long amount) {
    if (name != null && amount < 1) {
      throw new IllegalArgumentException("quotaAmount: " + amount + " (expected: >= 1 for " + name + ")");
    }
    this.quotaName = name;
    this.quotaAmount = amount;
  }

  @Override
  public void init(FilterConfig config) throws ServletException {
    if (mixer != null) {
      return;
    }
    String target = config.getInitParameter("mixer");
    String service = config.getInitParameter("destinationService");
    if (target == null || service == null) {
      throw new ServletException("MixerFilter " + config.getFilterName()
          + ": init parameters 'mixer' (host:port) and 'destinationService' are required");
    }
    String policy = config.getInitParameter("failPolicy");
    FailPolicy failPolicy;
    try {
      failPolicy = policy == null ? FailPolicy.OPEN : FailPolicy.valueOf(policy.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ServletException("MixerFilter " + config.getFilterName() + ": failPolicy '" + policy
          + "' (expected: open or close)");
    }
    String amount = config.getInitParameter("quotaAmount");
    try {
      setQuota(config.getInitParameter("quotaName"), amount == null ? 1 : Long.parseLong(amount));
    } catch (IllegalArgumentException e) {
      throw new ServletException("MixerFilter " + config.getFilterName() + ": " + e.getMessage());
    }
    owned = MixerClient.builder().target(target).failPolicy(failPolicy).build();
    mixer = owned;
    destinationService = service;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse resp, FilterChain chain)
      throws IOException, ServletException {
    MixerClient client = mixer;
    if (client == null || !(req instanceof HttpServletRequest http) || !(resp instanceof HttpServletResponse out)) {
      chain.doFilter(req, resp);
      return;
    }
    long startNanos = System.nanoTime();
    Attributes request = requestAttributes(http);
    CheckResult checked = client.check(request, quotaName, quotaAmount);
    if (!checked.allowed()) {
      int status = checked.httpStatus();
      byte[] body = (checked.toStatus().getCode() + ":" + checked.message()).getBytes(StandardCharsets.UTF_8);
      out.setStatus(status);
      out.setContentType("text/plain; charset=utf-8");
      out.setContentLength(body.length);
      out.getOutputStream().write(body);
      client.report(completed(request, status, body.length, Map.of(), startNanos));
      return;
    }
    CountingResponse counting = new CountingResponse(out);
    try {
      chain.doFilter(req, counting);
    } catch (IOException | ServletException | RuntimeException e) {
      // The container answers 500 for what the application threw; report that, not the 200 set so far.
      counting.failed = true;
      report(client, request, counting, startNanos);
      throw e;
    }
    if (!http.isAsyncStarted()) {
      counting.flushWriter();
      report(client, request, counting, startNanos);
      return;
    }
    http.getAsyncContext().addListener(new AsyncListener() {
      @Override
      public void onComplete(AsyncEvent event) {
        report(client, request, counting, startNanos);
      }

      @Override
      public void onTimeout(AsyncEvent event) {}

      @Override
      public void onError(AsyncEvent event) {}

      @Override
      public void onStartAsync(AsyncEvent event) {}
    });
  }

  private static void report(MixerClient client, Attributes request, CountingResponse r, long startNanos) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (String name : r.getHeaderNames()) {
      String v = r.getHeader(name);
      if (v != null) {
        RequestAttributes.putHeader(headers, name, v);
      }
    }
    client.report(completed(request, r.failed ? 500 : r.getStatus(), r.bytes, headers, startNanos));
  }

  private Attributes requestAttributes(HttpServletRequest req) {
    String query = req.getQueryString();
    String path = query == null ? req.getRequestURI() : req.getRequestURI() + "?" + query;
    String host = req.getHeader("host");
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":path", path);
    headers.put(":method", req.getMethod());
    if (host != null) {
      headers.put(":authority", host);
    }
    for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements(); ) {
      String name = names.nextElement();
      for (Enumeration<String> values = req.getHeaders(name); values.hasMoreElements(); ) {
        RequestAttributes.putHeader(headers, name, values.nextElement());
      }
    }
    Attributes.Builder b = Attributes.builder()
        .put("request.path", path)
        .put("request.method", req.getMethod())
        .putIfNotNull("request.host", host)
        .put("request.headers", headers)
        .putIfNotNull("request.id", req.getHeader("x-request-id"))
        .putIfNotNull("request.useragent", req.getHeader("user-agent"))
        .putIfNotNull("request.referer", req.getHeader("referer"))
        .put("request.scheme", req.getScheme())
        .put("request.time", Instant.now())
        .put("destination.service", requireNonNull(destinationService, "destinationService"))
        .put("destination.port", (long) req.getLocalPort())
        .put("context.protocol", "http");
    long size = req.getContentLengthLong();
    if (size >= 0) {
      b.put("request.size", size);
    }
    byte[] ip = ipBytes(req.getRemoteAddr());
    if (ip != null) {
      b.put("source.ip", ip);
      b.put("source.port", (long) req.getRemotePort());
    }
    return b.build();
  }

  /** The address bytes of a literal IP (never a DNS lookup: the container gives a literal). */
  private static byte @Nullable [] ipBytes(@Nullable String addr) {
    if (addr == null || addr.isEmpty() || !(Character.digit(addr.charAt(0), 16) >= 0 || addr.charAt(0) == ':'
        || addr.charAt(0) == '[')) {
      return null;
    }
    try {
      String literal = addr.startsWith("[") && addr.endsWith("]") ? addr.substring(1, addr.length() - 1) : addr;
      if (!literal.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':' || c == '%')) {
        return null;
      }
      return InetAddress.getByName(literal).getAddress();
    } catch (IOException e) {
      return null;
    }
  }

  private static Attributes completed(Attributes request, int status, long size, Map<String, String> headers,
      long startNanos) {
    return request.toBuilder()
        .put("response.code", (long) status)
        .put("response.size", size)
        .put("response.duration", Duration.ofNanos(System.nanoTime() - startNanos))
        .put("response.time", Instant.now())
        .put("response.headers", headers)
        .build();
  }

  @Override
  public void destroy() {
    if (owned != null) {
      owned.close();
    }
  }

  /** Counts the body bytes the application writes, through the stream or the writer. */
  private static final class CountingResponse extends HttpServletResponseWrapper {
    long bytes;
    boolean failed;
    private @Nullable ServletOutputStream stream;
    private @Nullable PrintWriter writer;

    CountingResponse(HttpServletResponse response) {
      super(response);
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
      if (stream == null) {
        ServletOutputStream inner = super.getOutputStream();
        stream = new ServletOutputStream() {
          @Override
          public boolean isReady() {
            return inner.isReady();
          }

          @Override
          public void setWriteListener(WriteListener listener) {
            inner.setWriteListener(listener);
          }

          @Override
          public void write(int b) throws IOException {
            inner.write(b);
            bytes++;
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            inner.write(b, off, len);
            bytes += len;
          }

          @Override
          public void flush() throws IOException {
            inner.flush();
          }

          @Override
          public void close() throws IOException {
            inner.close();
          }
        };
      }
      return stream;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
      if (writer == null) {
        writer = new PrintWriter(new OutputStreamWriter(getOutputStream(), getCharacterEncoding()));
      }
      return writer;
    }

    @Override
    public void flushBuffer() throws IOException {
      flushWriter();
      super.flushBuffer();
    }

    void flushWriter() {
      if (writer != null) {
        writer.flush();
      }
    }
  }
}
