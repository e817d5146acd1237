package io.istio4j.pilot.discovery;

import static java.util.Objects.requireNonNull;

import io.istio4j.ca.Pem;
import io.istio4j.pilot.config.v1.MeshConfig;
import io.istio4j.pilot.xds.MtlsMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Mesh mutual TLS as the command line asks for it: where the CA is, how Pilot trusts it and proves
 * itself to it, and the mesh-wide mode. Absent ({@code null} in {@link MeshSettings}) unless
 * {@code --caAddress} is given, so a Pilot started without it configures no TLS at all.
 *
 * @param caAddress {@code host:port} of the CA's gRPC API ({@code --caAddress})
 * @param caServerName the name the CA's serving certificate is checked against, when not the host
 *     of the address ({@code --caServerName}); null for the host
 * @param caRoot the CA's root ({@code --caRootCert}): trust anchor for the CA's serving certificate
 *     and the root Pilot serves as {@code ROOTCA}
 * @param caRootFile where the root was read from, for messages
 * @param token the bearer token Pilot presents to the CA ({@code --caTokenFile}); null for none
 * @param mode the mesh-wide mode ({@code --mtlsMode}, else the MeshConfig's {@code authPolicy})
 * @param certificateTtl the lifetime Pilot asks for ({@code --certificateTtl}); zero for the CA's default
 */
public record MtlsSettings(String caAddress, @Nullable String caServerName, X509Certificate caRoot, Path caRootFile,
    @Nullable String token, MtlsMode mode, Duration certificateTtl) {

  public MtlsSettings {
    requireNonNull(caAddress, "caAddress");
    requireNonNull(caRoot, "caRoot");
    requireNonNull(caRootFile, "caRootFile");
    requireNonNull(mode, "mode");
    requireNonNull(certificateTtl, "certificateTtl");
  }

  /**
   * The settings the flags describe, or null when {@code --caAddress} is not set (mutual TLS off;
   * then every other mTLS flag is refused, as it would do nothing).
   *
   * @throws IllegalArgumentException naming the flag and what was expected
   */
  public static @Nullable MtlsSettings fromFlags(@Nullable String caAddress, @Nullable String caServerName,
      @Nullable Path caRootCert, @Nullable Path caTokenFile, @Nullable String mtlsMode, @Nullable Duration certificateTtl,
      MeshConfig mesh) {
    if (caAddress == null || caAddress.isEmpty()) {
      String stray = caRootCert != null ? "--caRootCert" : caTokenFile != null ? "--caTokenFile"
          : caServerName != null ? "--caServerName" : mtlsMode != null ? "--mtlsMode"
          : certificateTtl != null ? "--certificateTtl" : null;
      if (stray != null) {
        throw new IllegalArgumentException(stray + ": set without --caAddress (expected: --caAddress HOST:PORT of "
            + "the CA, which issues the certificates mutual TLS needs)");
      }
      return null;
    }
    String problem = DumpCommand.checkServer(caAddress);
    if (problem != null) {
      throw new IllegalArgumentException("--caAddress: '" + caAddress + "': " + problem);
    }
    if (caServerName != null && caServerName.isBlank()) {
      throw new IllegalArgumentException("--caServerName: empty (expected: the DNS name in the CA's serving certificate)");
    }
    if (caRootCert == null) {
      throw new IllegalArgumentException("--caRootCert: not set (expected: the CA's root certificate, PEM; "
          + "--caAddress needs it to trust the CA)");
    }
    X509Certificate root;
    try {
      root = Pem.readCertificate(Files.readString(caRootCert, StandardCharsets.US_ASCII), caRootCert.toString());
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--caRootCert: " + caRootCert + ": no such file", e);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("--caRootCert: " + caRootCert + ": not a PEM certificate (" + e.getMessage() + ")", e);
    }
    String token = null;
    if (caTokenFile != null) {
      try {
        token = Files.readString(caTokenFile, StandardCharsets.UTF_8).strip();
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException("--caTokenFile: " + caTokenFile + ": no such file", e);
      } catch (IOException e) {
        throw new IllegalArgumentException("--caTokenFile: " + caTokenFile + ": cannot be read (" + e.getMessage() + ")", e);
      }
      if (token.isEmpty() || token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
        throw new IllegalArgumentException("--caTokenFile: " + caTokenFile
            + ": " + (token.isEmpty() ? "empty" : "has spaces or non-ASCII characters")
            + " (expected: one bearer token, e.g. a Kubernetes service account token)");
      }
    }
    MtlsMode mode;
    if (mtlsMode != null) {
      mode = MtlsMode.parse(mtlsMode).orElseThrow(() -> new IllegalArgumentException(
          "--mtlsMode: '" + mtlsMode + "' (expected: " + MtlsMode.ACCEPTED + ")"));
    } else {
      mode = mesh.getAuthPolicy() == MeshConfig.AuthPolicy.MUTUAL_TLS ? MtlsMode.STRICT : MtlsMode.DISABLE;
    }
    Duration ttl = certificateTtl == null ? Duration.ZERO : certificateTtl;
    if (ttl.isNegative() || (!ttl.isZero() && ttl.compareTo(Duration.ofMinutes(2)) < 0)) {
      throw new IllegalArgumentException("--certificateTtl: " + certificateTtl
          + " (expected: at least 2m, or 0 for the CA's default)");
    }
    return new MtlsSettings(caAddress, caServerName, root, caRootCert, token, mode, ttl);
  }

  @Override
  public String toString() {
    // Never the token.
    return "MtlsSettings[ca=" + caAddress + (caServerName == null ? "" : " (" + caServerName + ")") + ", root="
        + caRootFile + ", token=" + (token == null ? "none" : "set") + ", mode=" + mode + "]";
  }
}
