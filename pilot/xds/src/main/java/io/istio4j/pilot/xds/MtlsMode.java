package io.istio4j.pilot.xds;

import java.util.Locale;
import java.util.Optional;

/**
 * How a service port's servers take connections. {@code STRICT}: mutual TLS only (0.2's
 * {@code MUTUAL_TLS}); {@code PERMISSIVE}: mutual TLS and plaintext on the same port (the fix for
 * 0.2's "a service with Istio Auth cannot talk to one without Istio"); {@code DISABLE}: plaintext
 * only (0.2's {@code NONE}).
 *
 * <p>Clients (sidecars and proxyless gRPC) originate mutual TLS to STRICT ports only: a PERMISSIVE
 * port is the migration step in which servers already accept mutual TLS while every client,
 * in the mesh or not, still connects in plaintext (see docs/pilot.md "Mutual TLS").
 */
public enum MtlsMode {
  STRICT,
  PERMISSIVE,
  DISABLE;

  /** The values an annotation or mesh setting may take, for error messages. */
  public static final String ACCEPTED = "MUTUAL_TLS or STRICT, PERMISSIVE, NONE or DISABLE";

  /**
   * Parses 0.2/0.3's names ({@code MUTUAL_TLS}, {@code NONE}) and today's ({@code STRICT},
   * {@code PERMISSIVE}, {@code DISABLE}), case-insensitively; empty for anything else.
   */
  public static Optional<MtlsMode> parse(String value) {
    switch (value.strip().toUpperCase(Locale.ROOT)) {
      case "MUTUAL_TLS":
      case "STRICT":
        return Optional.of(STRICT);
      case "PERMISSIVE":
        return Optional.of(PERMISSIVE);
      case "NONE":
      case "DISABLE":
        return Optional.of(DISABLE);
      default:
        return Optional.empty();
    }
  }

  /** True when servers accept mutual TLS on the port. */
  public boolean acceptsTls() {
    return this != DISABLE;
  }
}
