package io.istio4j.mixer.server;

import java.net.URI;
import java.net.URISyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * How mixs traces its calls ({@code mixs server --zipkinURL --traceSampleRate}).
 *
 * <pre>{@code
 * MixerServer.start(options, new TracingOptions("http://zipkin:9411/api/v2/spans", 1.0f));
 * }</pre>
 *
 * @param zipkinUrl where spans are POSTed (Zipkin's {@code /api/v2/spans}), or null for no tracing
 * @param sampleRate the share of calls without a caller's sampling decision that are traced, 0 to 1
 */
public record TracingOptions(@Nullable String zipkinUrl, float sampleRate) {

  /** No tracing: the request path records nothing. */
  public static final TracingOptions DISABLED = new TracingOptions(null, 1.0f);

  /** Checks the URL and the rate; messages name the flag. */
  public TracingOptions {
    if (zipkinUrl != null && zipkinUrl.isBlank()) {
      zipkinUrl = null;
    }
    if (zipkinUrl != null) {
      try {
        URI uri = new URI(zipkinUrl);
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
          throw new URISyntaxException(zipkinUrl, "not an absolute http(s) URL");
        }
        if (uri.getRawUserInfo() != null) {
          // Not echoed: the URL holds a password. The sender would not send it either, and the URL
          // is logged at start.
          throw new IllegalArgumentException("--zipkinURL: user credentials in the URL are not supported "
              + "(expected: an http(s) URL without user:password@, such as http://zipkin:9411/api/v2/spans)");
        }
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("--zipkinURL: \"" + zipkinUrl
            + "\" (expected: an http(s) URL such as http://zipkin:9411/api/v2/spans)");
      }
    }
    if (!(sampleRate >= 0f && sampleRate <= 1f)) {
      throw new IllegalArgumentException("--traceSampleRate: " + sampleRate + " (expected: 0.0-1.0)");
    }
  }

  /** True when spans are reported. */
  public boolean enabled() {
    return zipkinUrl != null;
  }
}
