package io.istio4j.ca.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.istio4j.ca.auth.TokenVerifier;
import java.util.List;
import org.junit.jupiter.api.Test;

@EnableKubernetesMockClient
class KubernetesTokenVerifierIT {

  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void anAuthenticatedServiceAccountProvesItsSpiffeId() throws Exception {
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReturn(201, new TokenReviewBuilder().withNewStatus().withAuthenticated(true).withNewUser()
            .withUsername("system:serviceaccount:default:sleep").endUser().endStatus().build())
        .once();
    assertThat(new KubernetesTokenVerifier(client, "cluster.local", List.of()).verify("jwt"))
        .containsExactly("spiffe://cluster.local/ns/default/sa/sleep");
  }

  @Test
  void anUnauthenticatedTokenOrAPlainUserProvesNothing() throws Exception {
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReturn(201, new TokenReviewBuilder().withNewStatus().withAuthenticated(false).endStatus().build()).once();
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews")
        .andReturn(201, new TokenReviewBuilder().withNewStatus().withAuthenticated(true).withNewUser()
            .withUsername("alice").endUser().endStatus().build()).once();
    KubernetesTokenVerifier verifier = new KubernetesTokenVerifier(client, "cluster.local", List.of());
    assertThat(verifier.verify("bad")).isEmpty();
    assertThat(verifier.verify("alice")).isEmpty();
  }

  @Test
  void anApiServerErrorIsAVerificationFailureNotADenial() {
    KubernetesClient noRetries = new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder(client.getConfiguration()).withRequestRetryBackoffLimit(0).build()).build();
    server.expect().post().withPath("/apis/authentication.k8s.io/v1/tokenreviews").andReturn(500, "boom").always();
    assertThatThrownBy(() -> new KubernetesTokenVerifier(noRetries, "cluster.local", List.of()).verify("jwt"))
        .isInstanceOf(TokenVerifier.TokenVerificationException.class).hasMessageContaining("TokenReview");
  }

  @Test
  void usernamesMapToServiceAccountIds() {
    assertThat(KubernetesTokenVerifier.identity("system:serviceaccount:ns:sa", "td.example"))
        .containsExactly("spiffe://td.example/ns/ns/sa/sa");
    assertThat(KubernetesTokenVerifier.identity("system:serviceaccount:ns", "td")).isEmpty();
    assertThat(KubernetesTokenVerifier.identity("system:serviceaccount:n s:sa", "td")).isEmpty();
    assertThat(KubernetesTokenVerifier.identity(null, "td")).isEmpty();
  }
}
