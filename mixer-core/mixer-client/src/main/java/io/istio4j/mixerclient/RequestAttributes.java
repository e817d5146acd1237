package io.istio4j.mixerclient;

import io.grpc.Metadata;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Helpers the gRPC interceptor and the Servlet filter share to turn a request into attributes the way
 * Envoy's mixer filter does. Public only so the two integration packages can use it.
 *
 * <pre>{@code
 * Attributes.Builder b = Attributes.builder();
 * RequestAttributes.putAddress(b, "source", remoteAddress);   // source.ip (bytes), source.port
 * }</pre>
 */
public final class RequestAttributes {

  /**
   * Headers are capped: a client sending thousands of headers (or huge ones) must not make every
   * Check carry them all. Envoy bounds request headers at 60 KiB; this bounds the map Mixer sees.
   */
  public static final int MAX_HEADERS = 256;

  /** See {@link #MAX_HEADERS}: header values longer than this are cut. */
  public static final int MAX_HEADER_VALUE = 8192;

  private RequestAttributes() {}

  /** Sets {@code <prefix>.ip} (address bytes, as Envoy sends them) and {@code <prefix>.port}. */
  public static void putAddress(Attributes.Builder b, String prefix, @Nullable SocketAddress address) {
    if (address instanceof InetSocketAddress a && a.getAddress() != null) {
      b.put(prefix + ".ip", a.getAddress().getAddress());
      b.put(prefix + ".port", (long) a.getPort());
    }
  }

  /** Sets {@code name} to the port of {@code address} when it is an IP socket address. */
  public static void putPort(Attributes.Builder b, String name, @Nullable SocketAddress address) {
    if (address instanceof InetSocketAddress a) {
      b.put(name, (long) a.getPort());
    }
  }

  /**
   * The ASCII entries of {@code md} (binary {@code -bin} keys skipped; several values joined with
   * {@code ","} as HTTP folds them), after {@code first}, capped by {@link #MAX_HEADERS} and
   * {@link #MAX_HEADER_VALUE}.
   */
  public static Map<String, String> asciiHeaders(Metadata md, Map<String, String> first) {
    Map<String, String> out = new LinkedHashMap<>(first);
    for (String key : md.keys()) {
      if (out.size() >= MAX_HEADERS) {
        break;
      }
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        continue;
      }
      Iterable<String> values = md.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
      if (values != null) {
        out.put(key, cap(String.join(",", values)));
      }
    }
    return out;
  }

  /** Adds one header to {@code headers} (name lower-cased) unless the map is full. */
  public static void putHeader(Map<String, String> headers, String name, String value) {
    if (headers.size() < MAX_HEADERS) {
      headers.merge(name.toLowerCase(Locale.ROOT), cap(value), (a, v) -> cap(a + "," + v));
    }
  }

  private static String cap(String value) {
    return value.length() <= MAX_HEADER_VALUE ? value : value.substring(0, MAX_HEADER_VALUE);
  }
}
