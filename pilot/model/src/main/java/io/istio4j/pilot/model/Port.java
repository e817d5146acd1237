package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

/**
 * A service port. The name is mandatory when a service has several ports; the number is the
 * service's port, which need not equal the port its instances listen on.
 */
public record Port(String name, int port, Protocol protocol) {
  public Port {
    requireNonNull(name, "name");
    requireNonNull(protocol, "protocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + name + ": number " + port + " is not in 1..65535");
    }
  }
}
