package io.istio4j.pilot.model;

import java.util.Locale;
import java.util.Optional;

/** The application protocol of a service port, as Istio 0.2 named them. */
public enum Protocol {
  GRPC("GRPC"),
  HTTPS("HTTPS"),
  HTTP2("HTTP2"),
  HTTP("HTTP"),
  /** The default when nothing says otherwise. */
  TCP("TCP"),
  /** Declared by 0.2 but not proxied. */
  UDP("UDP"),
  MONGO("Mongo"),
  REDIS("Redis");

  private final String wireName;

  Protocol(String wireName) {
    this.wireName = wireName;
  }

  /** The name upstream printed and accepted (e.g. {@code Mongo}). */
  public String wireName() {
    return wireName;
  }

  /** True for the protocols the proxy routes at layer 7: HTTP, HTTP2 and gRPC. */
  public boolean isHttp() {
    return this == HTTP || this == HTTP2 || this == GRPC;
  }

  /** True when the upstream connection must speak HTTP/2 (gRPC and HTTP2). */
  public boolean isHttp2() {
    return this == HTTP2 || this == GRPC;
  }

  /** Parses a protocol name case-insensitively ({@code http}, {@code Mongo}, {@code GRPC}). */
  public static Optional<Protocol> parse(String name) {
    if (name == null) {
      return Optional.empty();
    }
    switch (name.toLowerCase(Locale.ROOT)) {
      case "grpc":
        return Optional.of(GRPC);
      case "https":
        return Optional.of(HTTPS);
      case "http2":
        return Optional.of(HTTP2);
      case "http":
        return Optional.of(HTTP);
      case "tcp":
        return Optional.of(TCP);
      case "udp":
        return Optional.of(UDP);
      case "mongo":
        return Optional.of(MONGO);
      case "redis":
        return Optional.of(REDIS);
      default:
        return Optional.empty();
    }
  }

  /**
   * The protocol Kubernetes implies by a port name: the part before the first {@code -} names it
   * ({@code http-api} is HTTP); anything unknown is TCP.
   */
  public static Protocol fromPortName(String portName) {
    if (portName == null || portName.isEmpty()) {
      return TCP;
    }
    int dash = portName.indexOf('-');
    String prefix = dash < 0 ? portName : portName.substring(0, dash);
    Optional<Protocol> p = parse(prefix);
    // Only these prefixes carry meaning on Kubernetes; "tcp-x" and "udp-x" stay TCP as upstream did.
    return p.filter(x -> x != TCP && x != UDP).orElse(TCP);
  }
}
