package io.istio4j.ca.k8s;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.istio4j.ca.SpiffeId;
import io.istio4j.ca.auth.TokenVerifier;
import java.util.List;
import java.util.Set;

/**
 * Bearer tokens checked by the Kubernetes API (TokenReview): an authenticated service account
 * {@code system:serviceaccount:<ns>:<sa>} proves {@code spiffe://<trust-domain>/ns/<ns>/sa/<sa>}.
 * Any other user proves nothing.
 */
public final class KubernetesTokenVerifier implements TokenVerifier {

  private static final String SA_PREFIX = "system:serviceaccount:";

  private final KubernetesClient client;
  private final String trustDomain;
  private final List<String> audiences;

  /**
   * A verifier asking {@code client}'s API server.
   *
   * @param audiences the audiences a token must carry; empty for the API server's default
   */
  public KubernetesTokenVerifier(KubernetesClient client, String trustDomain, List<String> audiences) {
    this.client = requireNonNull(client, "client");
    this.trustDomain = SpiffeId.checkTrustDomain(trustDomain);
    this.audiences = List.copyOf(audiences);
  }

  @Override
  public Set<String> verify(String token) throws TokenVerificationException {
    TokenReview review = new TokenReviewBuilder().withNewSpec().withToken(token)
        .withAudiences(audiences.isEmpty() ? null : audiences).endSpec().build();
    TokenReview result;
    try {
      result = client.authentication().v1().tokenReviews().create(review);
    } catch (KubernetesClientException e) {
      throw new TokenVerificationException("Kubernetes TokenReview failed: " + e.getMessage(), e);
    }
    if (result == null || result.getStatus() == null || !Boolean.TRUE.equals(result.getStatus().getAuthenticated())
        || result.getStatus().getUser() == null) {
      return Set.of();
    }
    return identity(result.getStatus().getUser().getUsername(), trustDomain);
  }

  static Set<String> identity(String username, String trustDomain) {
    if (username == null || !username.startsWith(SA_PREFIX)) {
      return Set.of();
    }
    String[] parts = username.substring(SA_PREFIX.length()).split(":", -1);
    if (parts.length != 2) {
      return Set.of();
    }
    try {
      return Set.of(SpiffeId.forServiceAccount(trustDomain, parts[0], parts[1]).toString());
    } catch (IllegalArgumentException e) {
      return Set.of();
    }
  }
}
