package io.istio4j.adapters.redisquota;

import io.istio4j.adapter.Redaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A parsed {@code redisServerUrl}: {@code host:port} (upstream's form), or {@code
 * redis://[user:password@]host:port[/db]}, or {@code rediss://...} for TLS.
 */
record RedisAddress(String host, int port, String user, String password, int database, boolean tls) {

  static RedisAddress parse(String url) {
    if (url.isEmpty()) {
      throw new IllegalArgumentException("required: host:port or redis://host:port");
    }
    if (!url.contains("://")) {
      int colon = url.lastIndexOf(':');
      if (url.indexOf('@') >= 0) { // credentials belong in a redis:// URL; never take them for a host name
        throw new IllegalArgumentException("'" + shown(url)
            + "' (expected: host:port, or redis://user:password@host:port with credentials)");
      }
      if (colon <= 0 || colon == url.length() - 1) {
        throw new IllegalArgumentException("'" + shown(url) + "' (expected: host:port or redis://host:port)");
      }
      return new RedisAddress(url.substring(0, colon), port(url, url.substring(colon + 1)), "", "", 0, false);
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      // Not e.getMessage(): it quotes the whole input, password included.
      throw new IllegalArgumentException("'" + shown(url) + "' is not a URL: " + e.getReason() + " at index "
          + e.getIndex());
    }
    boolean tls = "rediss".equals(uri.getScheme());
    if (!tls && !"redis".equals(uri.getScheme())) {
      throw new IllegalArgumentException("'" + shown(url) + "': scheme " + uri.getScheme() + " (expected: redis or rediss)");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("'" + shown(url) + "' has no host");
    }
    int port = uri.getPort() < 0 ? 6379 : uri.getPort();
    String user = "";
    String password = "";
    if (uri.getRawUserInfo() != null) {
      String info = uri.getRawUserInfo();
      int colon = info.indexOf(':');
      user = decode(colon < 0 ? "" : info.substring(0, colon));
      password = decode(colon < 0 ? info : info.substring(colon + 1));
    }
    int db = 0;
    String path = uri.getPath();
    if (path != null && path.length() > 1) {
      try {
        db = Integer.parseInt(path.substring(1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + shown(url) + "': database '" + path.substring(1) + "' (expected: a number)");
      }
    }
    return new RedisAddress(uri.getHost(), port, user, password, db, tls);
  }

  private static int port(String url, String text) {
    try {
      int p = Integer.parseInt(text);
      if (p < 1 || p > 65535) {
        throw new NumberFormatException();
      }
      return p;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + shown(url) + "': port '" + text + "' (expected: 1-65535)");
    }
  }

  /** The URL as error messages show it: without its password, even when it does not parse. */
  private static String shown(String url) {
    return Redaction.redactUserInfo(url);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return (tls ? "rediss://" : "redis://") + host + ":" + port + "/" + database; // never the password
  }
}
