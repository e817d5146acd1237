package io.istio4j.pilot.model;

import static java.util.Objects.requireNonNull;

/**
 * One IP:port of an instance, linked to the service port it implements. A multi-port service has
 * one endpoint per port per instance.
 */
public record NetworkEndpoint(String address, int port, Port servicePort) {
  public NetworkEndpoint {
    requireNonNull(address, "address");
    requireNonNull(servicePort, "servicePort");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("endpoint " + address + ": port " + port + " is not in 1..65535");
    }
  }
}
