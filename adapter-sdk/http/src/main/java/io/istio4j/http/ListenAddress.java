package io.istio4j.http;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Listen addresses as operators write them, and errors that say which listener could not start:
 * shared by every server of the process (gRPC, monitoring, adapters) so that all of them read the
 * same.
 *
 * <pre>{@code
 * InetSocketAddress at = ListenAddress.resolve("", 9091, "gRPC --port");  // all interfaces
 * try {
 *   server.start();
 * } catch (IOException e) {
 *   throw ListenAddress.cannotListen(at, "gRPC --port", e);
 *   // cannot listen on 0.0.0.0:9091 (gRPC --port): Address already in use
 * }
 * }</pre>
 */
public final class ListenAddress {

  private ListenAddress() {}

  /**
   * The address for {@code host} and {@code port}: all interfaces when {@code host} is empty;
   * brackets around an IPv6 literal are optional.
   *
   * @param what the listener and the setting that chose it, for the error: {@code gRPC --port}
   * @throws UnknownHostException when {@code host} does not resolve; the message names it and
   *     {@code what}
   */
  public static InetSocketAddress resolve(String host, int port, String what) throws UnknownHostException {
    requireNonNull(host, "host");
    requireNonNull(what, "what");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0-65535)");
    }
    String h = host.strip();
    if (h.isEmpty()) {
      return new InetSocketAddress(port);
    }
    String bare = h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    InetSocketAddress address = new InetSocketAddress(bare, port);
    if (address.isUnresolved()) {
      throw new UnknownHostException("cannot listen on " + h + ":" + port + " (" + what
          + "): unknown host (expected: an IP address or a host name of this machine, or empty for all interfaces)");
    }
    return address;
  }

  /** {@code host:port} as an operator writes it: {@code 0.0.0.0:9093}, {@code [::1]:9093}. */
  public static String describe(InetSocketAddress address) {
    requireNonNull(address, "address");
    if (address.isUnresolved()) {
      return address.getHostString() + ":" + address.getPort();
    }
    if (address.getAddress().isAnyLocalAddress()) {
      // all interfaces, whichever protocol the JDK chose for the socket
      return "0.0.0.0:" + address.getPort();
    }
    String host = address.getAddress().getHostAddress();
    return (address.getAddress() instanceof Inet6Address ? "[" + compress(host) + "]" : host) + ":"
        + address.getPort();
  }

  /** An IPv6 literal with its longest run of zero groups written {@code ::}, as RFC 5952 does. */
  static String compress(String ipv6) {
    int scope = ipv6.indexOf('%');
    String suffix = scope < 0 ? "" : ipv6.substring(scope);
    String[] groups = (scope < 0 ? ipv6 : ipv6.substring(0, scope)).split(":");
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < groups.length; ) {
      int j = i;
      while (j < groups.length && groups[j].equals("0")) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    if (bestStart < 0) {
      return String.join(":", groups) + suffix;
    }
    String head = String.join(":", Arrays.copyOfRange(groups, 0, bestStart));
    String tail = String.join(":", Arrays.copyOfRange(groups, bestStart + bestLength, groups.length));
    return head + "::" + tail + suffix;
  }

  /**
   * The error for a listener that could not start: {@code cannot listen on 0.0.0.0:9091 (gRPC
   * --port): Address already in use}, a {@link BindException} when the address is taken or not
   * this machine's. The reason is the innermost cause's, without the wrappers' prefixes.
   */
  public static IOException cannotListen(InetSocketAddress address, String what, Throwable failure) {
    requireNonNull(failure, "failure");
    Throwable root = failure;
    boolean bind = failure instanceof BindException;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
      bind |= root instanceof BindException;
    }
    String reason = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    // Netty's native transports say "bind(..) failed: Address already in use".
    int colon = reason.startsWith("bind(") ? reason.indexOf(": ") : -1;
    if (colon > 0) {
      reason = reason.substring(colon + 2);
    }
    bind |= reason.contains("Address already in use") || reason.contains("Cannot assign requested address");
    String message = "cannot listen on " + describe(address) + " (" + what + "): " + reason;
    IOException e = bind ? new BindException(message) : new IOException(message);
    e.initCause(failure);
    return e;
  }
}
