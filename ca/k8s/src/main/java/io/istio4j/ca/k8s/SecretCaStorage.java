package io.istio4j.ca.k8s;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.istio4j.ca.CaStorage;
import java.io.IOException;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * CA storage in the Kubernetes Secret {@code istio-ca-secret} (type {@code istio.io/ca-root}, keys
 * {@code ca-cert.pem} and {@code ca-key.pem}), as Istio 0.2 and today's istiod keep it. A first
 * start creates the Secret; when two CAs start at once the second's create fails with 409 and it
 * adopts the Secret the first wrote, so both sign with one root.
 */
public final class SecretCaStorage implements CaStorage {

  /** The Secret's name. */
  public static final String SECRET_NAME = "istio-ca-secret";
  /** The Secret's type. */
  public static final String SECRET_TYPE = "istio.io/ca-root";
  /** The certificate key. */
  public static final String CERT_KEY = "ca-cert.pem";
  /** The private key key. */
  public static final String KEY_KEY = "ca-key.pem";

  private final KubernetesClient client;
  private final String namespace;

  /** Storage in {@code namespace}'s {@code istio-ca-secret}. */
  public SecretCaStorage(KubernetesClient client, String namespace) {
    this.client = requireNonNull(client, "client");
    this.namespace = requireNonNull(namespace, "namespace");
  }

  @Override
  public Optional<StoredCa> load() throws IOException {
    Secret secret;
    try {
      secret = client.secrets().inNamespace(namespace).withName(SECRET_NAME).get();
    } catch (KubernetesClientException e) {
      throw new IOException(describe() + ": cannot read (" + e.getMessage() + ")", e);
    }
    return secret == null ? Optional.empty() : Optional.of(parse(secret));
  }

  @Override
  public StoredCa store(StoredCa ca) throws IOException {
    Secret secret = new SecretBuilder()
        .withNewMetadata().withName(SECRET_NAME).withNamespace(namespace).endMetadata()
        .withType(SECRET_TYPE)
        .withData(Map.of(CERT_KEY, base64(ca.certPem()), KEY_KEY, base64(ca.keyPem())))
        .build();
    try {
      client.secrets().inNamespace(namespace).resource(secret).create();
      return ca;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        // Another CA replica created it first: use its root, or the replicas would disagree.
        return load().orElseThrow(() -> new IOException(describe() + ": create conflicted but the Secret is gone"));
      }
      throw new IOException(describe() + ": cannot create (" + e.getMessage() + ")", e);
    }
  }

  @Override
  public String describe() {
    return "Secret " + namespace + "/" + SECRET_NAME;
  }

  private StoredCa parse(Secret secret) throws IOException {
    if (!SECRET_TYPE.equals(secret.getType())) {
      throw new IOException(describe() + ": type '" + secret.getType() + "' (expected: " + SECRET_TYPE + ")");
    }
    return new StoredCa(field(secret, CERT_KEY), field(secret, KEY_KEY));
  }

  private String field(Secret secret, String key) throws IOException {
    Map<String, String> data = secret.getData();
    String value = data == null ? null : data.get(key);
    if (value == null) {
      throw new IOException(describe() + ": no data key '" + key + "'");
    }
    try {
      return new String(Base64.getDecoder().decode(value), UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IOException(describe() + ": data key '" + key + "' is not base64", e);
    }
  }

  static String base64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(UTF_8));
  }
}
