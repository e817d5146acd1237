package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.istio4j.pilot.model.TlsSecret;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads a Kubernetes {@code kubernetes.io/tls} Secret ({@code data} base64 or, in files, {@code
 * stringData}: {@code tls.crt}, {@code tls.key}) and checks it before an ingress proxy is given it:
 * the certificates parse as X.509, the key is a PEM private key, and a PKCS#8 key (RSA or EC) belongs
 * to the leaf certificate. Envoy would reject a listener carrying a broken pair, and with it every
 * other host on the port, so a broken Secret is refused here, with the reason.
 */
public final class TlsSecrets {
  /** The Secret type whose objects are read. */
  public static final String TYPE = "kubernetes.io/tls";
  /** Kubernetes' own limit on a Secret. */
  static final int MAX_BYTES = 1024 * 1024;

  private static final Pattern PEM = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

  private static final Pattern WHITESPACE = Pattern.compile("\\s");

  private TlsSecrets() {}

  /** A Secret as read: the secret, or why it cannot be used. */
  public record Result(String namespace, String name, @Nullable TlsSecret secret, @Nullable String error) {
    /** True when {@link #secret()} is set. */
    public boolean valid() {
      return secret != null;
    }
  }

  /** Whether a Secret (as JSON) is of type {@value #TYPE}. */
  public static boolean isTls(JsonNode secret) {
    return TYPE.equals(secret.path("type").asText(""));
  }

  /**
   * Reads one Secret.
   *
   * @param secret the object as JSON
   * @param defaultNamespace its namespace when it names none
   * @param version the content version to record (its resourceVersion, or a counter)
   */
  public static Result read(JsonNode secret, String defaultNamespace, String version) {
    requireNonNull(secret, "secret");
    JsonNode meta = secret.path("metadata");
    String name = meta.path("name").asText("");
    String namespace = meta.path("namespace").asText("");
    if (namespace.isEmpty()) {
      namespace = defaultNamespace;
    }
    if (name.isEmpty()) {
      return new Result(namespace, name, null, "metadata.name: required");
    }
    String cert;
    String key;
    try {
      cert = value(secret, "tls.crt");
      key = value(secret, "tls.key");
    } catch (IllegalArgumentException e) {
      return new Result(namespace, name, null, e.getMessage());
    }
    if (cert == null || key == null) {
      return new Result(namespace, name, null, "data: needs tls.crt and tls.key");
    }
    String problem = problem(cert, key);
    if (problem != null) {
      return new Result(namespace, name, null, problem);
    }
    return new Result(namespace, name, new TlsSecret(namespace, name, version, cert, key), null);
  }

  private static @Nullable String value(JsonNode secret, String field) {
    JsonNode plain = secret.path("stringData").path(field);
    if (plain.isTextual()) {
      return plain.asText();
    }
    JsonNode b64 = secret.path("data").path(field);
    if (!b64.isTextual()) {
      return null;
    }
    if (b64.asText().length() > MAX_BYTES * 4 / 3 + 4) {
      throw new IllegalArgumentException("data." + field + ": larger than a Secret may be (1 MiB)");
    }
    try {
      return new String(Base64.getDecoder().decode(WHITESPACE.matcher(b64.asText()).replaceAll("")), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("data." + field + ": not base64: " + e.getMessage(), e);
    }
  }

  /** Why a certificate chain and key cannot be served, or null when they can. */
  static @Nullable String problem(String certPem, String keyPem) {
    X509Certificate leaf;
    try {
      Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(certPem.getBytes(StandardCharsets.US_ASCII)));
      if (certs.isEmpty()) {
        return "tls.crt: no PEM certificate";
      }
      leaf = (X509Certificate) certs.iterator().next();
    } catch (GeneralSecurityException | RuntimeException e) {
      return "tls.crt: not a PEM X.509 certificate: " + e.getMessage();
    }
    Matcher m = PEM.matcher(keyPem);
    if (!m.find() || !m.group(1).endsWith("PRIVATE KEY")) {
      return "tls.key: no PEM private key (expected: -----BEGIN PRIVATE KEY----- or RSA/EC PRIVATE KEY)";
    }
    byte[] der;
    try {
      der = Base64.getDecoder().decode(WHITESPACE.matcher(m.group(2)).replaceAll(""));
    } catch (IllegalArgumentException e) {
      return "tls.key: the PEM body is not base64";
    }
    if (!m.group(1).equals("PRIVATE KEY")) {
      return null; // PKCS#1 or SEC1: well-formed PEM; Envoy checks the pair
    }
    String algorithm = leaf.getPublicKey().getAlgorithm();
    try {
      PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      String sigAlg = algorithm.equals("EC") ? "SHA256withECDSA" : algorithm.equals("RSA") ? "SHA256withRSA" : null;
      if (sigAlg == null) {
        return null;
      }
      byte[] probe = "istio4j".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance(sigAlg);
      sign.initSign(key);
      sign.update(probe);
      byte[] sig = sign.sign();
      Signature verify = Signature.getInstance(sigAlg);
      verify.initVerify(leaf.getPublicKey());
      verify.update(probe);
      return verify.verify(sig) ? null : "tls.key: does not belong to the first certificate of tls.crt";
    } catch (GeneralSecurityException | RuntimeException e) {
      return "tls.key: not a " + algorithm + " PKCS#8 key matching tls.crt: " + e.getMessage();
    }
  }
}
