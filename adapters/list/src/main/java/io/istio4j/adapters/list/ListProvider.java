package io.istio4j.adapters.list;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Fetches list bodies with an HTTP GET. All list handlers share one {@link HttpClient} (its
 * selector thread and connection pool), created when the first handler with a {@code providerUrl}
 * needs it. Requests are asynchronous so a slow provider never holds one of Mixer's scheduler
 * threads; every fetch ends, with a body or an error, within {@link #DEADLINE}.
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
   * whose {@link #describe} says what went wrong.
   */
  static CompletableFuture<byte[]> fetch(URI url) {
    HttpRequest request = HttpRequest.newBuilder(url)
        .timeout(TIMEOUT)
        .header("Accept", "text/plain, application/yaml;q=0.9, */*;q=0.8")
        .GET()
        .build();
    return Client.INSTANCE.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
        .orTimeout(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .thenApply(response -> {
          if (response.statusCode() / 100 != 2) {
            throw new CompletionException(new IOException("HTTP status " + response.statusCode()));
          }
          return response.body();
        });
  }

  /** One line for a failed fetch, for example {@code ConnectException: Connection refused}. */
  static String describe(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof IOException && e.getMessage() == null && e.getCause() != null) {
      e = e.getCause(); // HttpClient's ConnectException often only wraps the real cause
    }
    if (e instanceof java.util.concurrent.TimeoutException) {
      return "no complete response within " + DEADLINE.toSeconds() + "s";
    }
    String message = e.getMessage();
    String type = e.getClass().getSimpleName();
    if (e instanceof IOException && e.getClass() == IOException.class) {
      return message;
    }
    return message == null || message.isBlank() ? type : type + ": " + message;
  }
}
