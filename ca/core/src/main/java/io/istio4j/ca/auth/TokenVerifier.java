package io.istio4j.ca.auth;

import java.util.Set;

/**
 * Checks a bearer token a CSR caller presents and returns the identities (SPIFFE IDs) it proves.
 * Pluggable: Kubernetes TokenReview, a static token file, or an operator's own.
 *
 * <pre>{@code
 * TokenVerifier verifier = token -> token.equals(secret) ? Set.of("spiffe://cluster.local/ns/vm/sa/db") : Set.of();
 * }</pre>
 */
@FunctionalInterface
public interface TokenVerifier {

  /**
   * The identities {@code token} proves, or an empty set when this verifier does not accept it (so
   * the next verifier may try).
   *
   * @throws TokenVerificationException when the verifier cannot decide (its backend is down)
   */
  Set<String> verify(String token) throws TokenVerificationException;

  /** A verifier that could not reach its backend or decide. */
  final class TokenVerificationException extends Exception {
    private static final long serialVersionUID = 1L;

    /** With a message naming the verifier and the problem. */
    public TokenVerificationException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
