package io.istio4j.ca;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files atomically (a temporary file in the same directory, then a rename), so a reader
 * never sees half a key or a key that does not match its certificate's file for long, and private
 * keys with mode 0600 from the moment they exist.
 */
public final class SecureFiles {

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC = PosixFilePermissions.fromString("rw-r--r--");

  private SecureFiles() {}

  /** Writes a private key: mode 0600, atomically replacing {@code file}. */
  public static void writeSecret(Path file, String content) throws IOException {
    write(file, content, OWNER_ONLY);
  }

  /** Writes a certificate or other public file: mode 0644, atomically replacing {@code file}. */
  public static void writePublic(Path file, String content) throws IOException {
    write(file, content, PUBLIC);
  }

  /** Reads a UTF-8 text file; the error names the file. */
  public static String read(Path file, String what) throws IOException {
    try {
      return Files.readString(file, UTF_8);
    } catch (IOException e) {
      throw new IOException(what + " " + file + ": cannot read (" + e + ")", e);
    }
  }

  private static void write(Path file, String content, Set<PosixFilePermission> mode) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = null;
    for (int attempt = 0; tmp == null; attempt++) {
      Path candidate = dir.resolve("." + file.getFileName() + ".tmp" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
      try {
        tmp = Files.createFile(candidate, PosixFilePermissions.asFileAttribute(mode));
      } catch (FileAlreadyExistsException e) {
        if (attempt > 10) {
          throw e;
        }
      }
    }
    try {
      // createFile's mode is subject to the umask; set it again so 0644 means 0644.
      Files.setPosixFilePermissions(tmp, mode);
      Files.writeString(tmp, content, UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
