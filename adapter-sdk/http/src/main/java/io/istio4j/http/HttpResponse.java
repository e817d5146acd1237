package io.istio4j.http;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * A complete response: the server sends it with its {@code Content-Length}, gzipped when the client
 * accepts gzip and the body is large enough to gain from it. A body is always rendered in full
 * before anything is sent, so a client never gets a truncated one.
 *
 * <pre>{@code
 * HttpResponse.of(200, "text/plain; version=0.0.4; charset=utf-8", exposition);
 * HttpResponse.text(503, "not ready\n");
 * }</pre>
 */
public final class HttpResponse {

  private final int status;
  private final String contentType;
  private final byte[] body;

  private HttpResponse(int status, String contentType, byte[] body) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status: " + status + " (expected: 100-599)");
    }
    this.status = status;
    this.contentType = requireNonNull(contentType, "contentType");
    this.body = requireNonNull(body, "body");
  }

  /** A response of {@code status} with {@code body} (not copied: do not change it afterwards). */
  public static HttpResponse of(int status, String contentType, byte[] body) {
    return new HttpResponse(status, contentType, body);
  }

  /** A {@code text/plain} UTF-8 response. */
  public static HttpResponse text(int status, String text) {
    return new HttpResponse(status, "text/plain; charset=utf-8", text.getBytes(UTF_8));
  }

  /** The status code. */
  public int status() {
    return status;
  }

  /** The {@code Content-Type}. */
  public String contentType() {
    return contentType;
  }

  /** The body, not copied: do not change it. */
  public byte[] body() {
    return body;
  }

  /** The body's length in bytes. */
  public int length() {
    return body.length;
  }

  @Override
  public String toString() {
    return "HttpResponse{" + status + ", " + contentType + ", " + body.length + " bytes}";
  }
}
