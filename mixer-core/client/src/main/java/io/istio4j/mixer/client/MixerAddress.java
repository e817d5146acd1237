package io.istio4j.mixer.client;

import static java.util.Objects.requireNonNull;

import picocli.CommandLine;

/**
 * Mixer's address as {@code -m/--mixer} gives it: {@code host:port}, or {@code [v6-address]:port}.
 * Checked here rather than left to gRPC, whose name resolver throws an out-of-range port on one of
 * its own threads and then waits for an address that never comes.
 */
record MixerAddress(String host, int port) {

  MixerAddress {
    requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host is empty (expected: host:port)");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " (expected: 1-65535)");
    }
  }

  static MixerAddress parse(String value) {
    requireNonNull(value, "value");
    int colon = value.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("'" + value + "' has no port (expected: host:port, e.g. localhost:9091)");
    }
    String host = value.substring(0, colon);
    String portText = value.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.indexOf(':') >= 0) {
      throw new IllegalArgumentException(
          "'" + value + "': an IPv6 address needs brackets (expected: [::1]:9091)");
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + value + "': port '" + portText + "' is not a number (expected: 1-65535)");
    }
    try {
      return new MixerAddress(host, port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + value + "': " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  /** Lets picocli report a bad {@code --mixer} as a usage error (exit 2) naming the flag. */
  static final class Converter implements CommandLine.ITypeConverter<MixerAddress> {
    @Override
    public MixerAddress convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
