package io.istio4j.http;

/**
 * Answers the requests for one path of an {@link HttpServer}.
 *
 * <pre>{@code
 * HttpHandler version = request -> HttpResponse.text(200, "1.0\n");
 * }</pre>
 *
 * <p>A handler that throws gets a 500 whose body is the exception's message; the server keeps
 * serving.
 */
@FunctionalInterface
public interface HttpHandler {

  /** The response to {@code request} (a GET or a HEAD; the server drops the body of a HEAD). */
  HttpResponse handle(HttpRequest request) throws Exception;
}
