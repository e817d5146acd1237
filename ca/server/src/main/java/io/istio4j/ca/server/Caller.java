package io.istio4j.ca.server;

import static java.util.Objects.requireNonNull;

import java.util.Set;

/**
 * An authenticated CSR caller.
 *
 * @param identities the identities it proved (SPIFFE IDs)
 * @param method how: {@code client certificate} or {@code bearer token}
 */
public record Caller(Set<String> identities, String method) {
  /** Copies the identities. */
  public Caller {
    identities = Set.copyOf(requireNonNull(identities, "identities"));
    requireNonNull(method, "method");
  }
}
