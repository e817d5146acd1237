package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A {@code --registries} element naming a server: {@code SCHEME://host:port[/path][?key=value&...]}.
 * The scheme selects the registry; the rest becomes an {@code http://} base URI and settings.
 */
record RemoteSpec(String spec, URI base, String path, Map<String, String> params) {
  RemoteSpec {
    requireNonNull(spec, "spec");
    requireNonNull(base, "base");
    requireNonNull(path, "path");
    params = Map.copyOf(params);
  }

  /**
   * Parses {@code spec}, accepting only the settings in {@code known}.
   *
   * @throws IllegalArgumentException naming the element and what was expected
   */
  static RemoteSpec parse(String spec, String scheme, boolean pathAllowed, List<String> known) {
    requireNonNull(spec, "spec");
    String usage = scheme + "://HOST:PORT" + (pathAllowed ? "[/PATH]" : "") + "[?" + String.join("=..&", known) + "=..]";
    String prefix = scheme + "://";
    if (!spec.regionMatches(true, 0, prefix, 0, prefix.length())) {
      throw new IllegalArgumentException("registry '" + spec + "': expected " + usage);
    }
    String rest = spec.substring(prefix.length());
    if (rest.isEmpty() || rest.startsWith("/") || rest.startsWith("?") || rest.startsWith(":")) {
      throw new IllegalArgumentException("registry '" + spec + "': the host is missing (expected " + usage + ")");
    }
    URI uri;
    try {
      uri = new URI("http://" + spec.substring(prefix.length()));
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("registry '" + spec + "': " + e.getMessage() + " (expected " + usage + ")", e);
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw new IllegalArgumentException("registry '" + spec + "': the host is missing (expected " + usage + ")");
    }
    if (uri.getPort() < 1) {
      throw new IllegalArgumentException("registry '" + spec + "': the port is missing (expected " + usage + ")");
    }
    if (uri.getUserInfo() != null || uri.getFragment() != null) {
      throw new IllegalArgumentException("registry '" + spec + "': user info and fragments are not accepted (expected "
          + usage + ")");
    }
    Map<String, String> params = new LinkedHashMap<>();
    String query = uri.getQuery();
    if (query != null && !query.isEmpty()) {
      for (String pair : query.split("&", -1)) {
        int eq = pair.indexOf('=');
        String key = eq < 0 ? pair : pair.substring(0, eq);
        String value = eq < 0 ? "" : pair.substring(eq + 1);
        if (!known.contains(key)) {
          throw new IllegalArgumentException("registry '" + spec + "': unknown setting '" + key + "' (expected one of "
              + known + ")");
        }
        if (params.put(key, value) != null) {
          throw new IllegalArgumentException("registry '" + spec + "': setting '" + key + "' is given twice");
        }
      }
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (!pathAllowed && !path.isEmpty()) {
      throw new IllegalArgumentException("registry '" + spec + "': a path is not accepted (expected " + usage + ")");
    }
    URI base = URI.create("http://" + uri.getRawAuthority());
    return new RemoteSpec(spec, base, path, params);
  }

  /** The duration setting {@code key} ({@code 500ms}, {@code 2s}, {@code 5m}), or the default. */
  Duration duration(String key, Duration defaultValue, Duration min) {
    String v = params.get(key);
    if (v == null) {
      return defaultValue;
    }
    Duration d = parseDuration(v);
    if (d == null || d.compareTo(min) < 0) {
      throw new IllegalArgumentException("registry '" + spec + "': " + key + "=" + v + " (expected a duration of at least "
          + min.toMillis() + "ms such as 500ms, 2s or 5m)");
    }
    return d;
  }

  /** The size setting {@code key} ({@code 1048576}, {@code 512k}, {@code 16m}), or the default. */
  long bytes(String key, long defaultValue) {
    String v = params.get(key);
    if (v == null) {
      return defaultValue;
    }
    String s = v.toLowerCase(Locale.ROOT);
    long unit = 1;
    if (s.endsWith("k")) {
      unit = 1L << 10;
    } else if (s.endsWith("m")) {
      unit = 1L << 20;
    }
    try {
      long n = Long.parseLong(unit == 1 ? s : s.substring(0, s.length() - 1));
      if (n > 0 && n <= (1L << 40) / unit) {
        return n * unit;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("registry '" + spec + "': " + key + "=" + v
        + " (expected a positive size such as 1048576, 512k or 16m)");
  }

  /** The boolean setting {@code key} ({@code true} or {@code false}), or the default. */
  boolean flag(String key, boolean defaultValue) {
    String v = params.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new IllegalArgumentException("registry '" + spec + "': " + key + "=" + v + " (expected true or false)");
  }

  private static @Nullable Duration parseDuration(String v) {
    String s = v.toLowerCase(Locale.ROOT);
    try {
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      if (s.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
      }
      if (s.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
      }
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
    return null;
  }
}
