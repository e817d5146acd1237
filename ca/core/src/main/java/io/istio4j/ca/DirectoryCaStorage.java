package io.istio4j.ca;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * CA storage in a directory: {@code ca-cert.pem} and {@code ca-key.pem} (mode 0600), the same names
 * as the {@code istio-ca-secret} keys. The key is written first and both atomically, so a crash
 * leaves either nothing usable (a key without a certificate is regenerated) or a complete pair.
 */
public final class DirectoryCaStorage implements CaStorage {

  /** The certificate file's name. */
  public static final String CERT_FILE = "ca-cert.pem";
  /** The key file's name. */
  public static final String KEY_FILE = "ca-key.pem";

  private final Path dir;

  /** Storage in {@code dir} (created on first store). */
  public DirectoryCaStorage(Path dir) {
    this.dir = requireNonNull(dir, "dir");
  }

  @Override
  public Optional<StoredCa> load() throws IOException {
    Path cert = dir.resolve(CERT_FILE);
    Path key = dir.resolve(KEY_FILE);
    if (!Files.exists(cert)) {
      return Optional.empty();
    }
    if (!Files.exists(key)) {
      throw new IOException("CA storage " + dir + ": " + CERT_FILE + " exists but " + KEY_FILE
          + " does not (expected: both, or neither on first start)");
    }
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(key);
    if (mode.contains(PosixFilePermission.GROUP_READ) || mode.contains(PosixFilePermission.OTHERS_READ)) {
      throw new IOException("CA storage " + key + ": key readable by group or others (mode "
          + PosixFilePermissions.toString(mode) + "; expected: rw-------, chmod 600)");
    }
    return Optional.of(new StoredCa(SecureFiles.read(cert, "CA certificate"), SecureFiles.read(key, "CA key")));
  }

  @Override
  public StoredCa store(StoredCa ca) throws IOException {
    try {
      Files.createDirectories(dir);
      SecureFiles.writeSecret(dir.resolve(KEY_FILE), ca.keyPem());
      SecureFiles.writePublic(dir.resolve(CERT_FILE), ca.certPem());
    } catch (IOException e) {
      throw new IOException("CA storage " + dir + ": cannot write the new root (" + e + ")", e);
    }
    return ca;
  }

  @Override
  public String describe() {
    return "directory " + dir;
  }
}
