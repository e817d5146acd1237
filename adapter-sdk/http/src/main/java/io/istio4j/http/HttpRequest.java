package io.istio4j.http;

import static java.util.Objects.requireNonNull;

/**
 * What a handler sees of a request.
 *
 * <pre>{@code
 * HttpHandler echo = request -> HttpResponse.text(200, request.method() + " " + request.path() + "\n");
 * }</pre>
 *
 * @param method {@code GET} or {@code HEAD}
 * @param path the path, without the query: {@code /metrics}
 * @param query the raw query after {@code ?}, or the empty string
 */
public record HttpRequest(String method, String path, String query) {

  /** Checks the parts. */
  public HttpRequest {
    requireNonNull(method, "method");
    requireNonNull(path, "path");
    requireNonNull(query, "query");
  }
}
