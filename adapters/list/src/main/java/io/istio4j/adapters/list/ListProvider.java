package io.istio4j.adapters.list;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Fetches list bodies with an HTTP GET. All list handlers share one {@link HttpClient} (its
 * selector thread and connection pool), created when the first handler with a {@code providerUrl}
 * needs it. Requests are asynchronous so a slow provider never holds one of Mixer's scheduler
 * threads; every fetch ends, with a body or an error, within {@link #DEADLINE}. The client's own
 * threads (a selector and a small worker pool) belong to the JDK's HTTP client: the {@code Env}
 * cannot lend it an executor that outlives one handler.
 */
final class ListProvider {

  /** Time allowed to connect, and then to receive the response headers. */
  static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** Time allowed for a whole fetch, body included. */
  static final Duration DEADLINE = TIMEOUT.multipliedBy(3);

  private ListProvider() {}

  private static final class Client {
    static final HttpClient INSTANCE = HttpClient.newBuilder()
        .connectTimeout(TIMEOUT)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  /**
   * GETs {@code url}; the future holds the body of a 2xx response, or fails with an exception
   * whose {@link #describe} says what went wrong. A request that fails on the connection (not a
   * timeout, not an HTTP status) is sent once more: a pooled keep-alive connection that the
   * provider closed, for example when it restarted, fails that way although the provider is up.
   */
  static CompletableFuture<byte[]> fetch(URI url) {
    HttpRequest request = HttpRequest.newBuilder(url)
        .timeout(TIMEOUT)
        .header("Accept", "text/plain, application/yaml;q=0.9, */*;q=0.8")
        .GET()
        .build();
    return send(request)
        .exceptionallyCompose(e -> isConnectionFailure(unwrap(e)) ? send(request) : CompletableFuture.failedFuture(e))
        .orTimeout(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static CompletableFuture<byte[]> send(HttpRequest request) {
    return Client.INSTANCE.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        .thenApply(response -> {
          if (response.statusCode() / 100 != 2) {
            throw new CompletionException(new StatusException(response.statusCode()));
          }
          return response.body();
        });
  }

  private static boolean isConnectionFailure(Throwable e) {
    return e instanceof IOException && !(e instanceof HttpTimeoutException) && !(e instanceof StatusException);
  }

  private static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** A response that is not 2xx. */
  private static final class StatusException extends IOException {
    private static final long serialVersionUID = 1L;

    StatusException(int status) {
      super("HTTP status " + status);
    }
  }

  /**
   * One line for a failed fetch: the exception's type and the first message in its cause chain,
   * or the root cause's type when there is no message. Refused connections, unknown hosts, connect
   * timeouts and TLS failures are said in words.
   */
  static String describe(Throwable error) {
    Throwable e = unwrap(error);
    if (e instanceof TimeoutException) {
      return "no complete response within " + DEADLINE.toSeconds() + "s";
    }
    if (e instanceof StatusException) {
      return e.getMessage();
    }
    // What an operator can act on, not the JDK's class names.
    if (e instanceof ConnectException) {
      return "cannot connect (connection refused or host unreachable)";
    }
    if (e instanceof UnknownHostException) {
      return "unknown host" + (e.getMessage() == null ? "" : " " + e.getMessage());
    }
    if (e instanceof HttpConnectTimeoutException) {
      return "cannot connect: connect timed out";
    }
    if (e instanceof SSLException) {
      return "TLS failed: " + e.getMessage();
    }
    String message = null;
    Throwable root = e;
    for (Throwable t = e; t != null && message == null; t = t.getCause()) {
      root = t;
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage();
      }
    }
    String type = e.getClass().getSimpleName();
    if (message != null) {
      return type + ": " + message;
    }
    return root.getClass() == e.getClass() ? type : type + " (" + root.getClass().getSimpleName() + ")";
  }
}
