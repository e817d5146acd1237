package io.istio4j.adapters.stdio;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.FileOutputPolicy;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A file appended to and rotated by size: before a line would take the file past {@code maxBytes},
 * the file becomes {@code <path>.1} (the previous {@code .1} becomes {@code .2}, and so on; the
 * file beyond {@code maxRotatedFiles} is deleted) and a new file is started. A single line longer
 * than {@code maxBytes} still goes into a file of its own.
 */
final class RotatingFileOutput implements Output {

  private static final int BUFFER_BYTES = 64 * 1024;

  private final Path path;
  private final long maxBytes;
  private final int maxRotatedFiles;
  private OutputStream out;
  /** Bytes counted towards the next rotation: the file's size, unless a rotation failed. */
  private long size;

  private RotatingFileOutput(Path path, long maxBytes, int maxRotatedFiles) throws IOException {
    this.path = requireNonNull(path, "path");
    this.maxBytes = maxBytes;
    this.maxRotatedFiles = maxRotatedFiles;
    reopen();
  }

  /**
   * Opens {@code path} for appending.
   *
   * @param maxBytes rotate before the file would grow beyond this; 0 never rotates
   * @param maxRotatedFiles how many rotated files to keep; 0 deletes the full file
   */
  static RotatingFileOutput open(Path path, long maxBytes, int maxRotatedFiles) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes: " + maxBytes + " (expected: >= 0)");
    }
    if (maxRotatedFiles < 0) {
      throw new IllegalArgumentException("maxRotatedFiles: " + maxRotatedFiles + " (expected: >= 0)");
    }
    return new RotatingFileOutput(path, maxBytes, maxRotatedFiles);
  }

  @Override
  public void write(byte[] line) throws IOException {
    RotationException failed = null;
    if (out != null && maxBytes > 0 && size > 0 && size + line.length > maxBytes) {
      try {
        rotate();
      } catch (RotationException e) {
        failed = e;
      }
    }
    if (out == null) { // an earlier reopen failed; the directory may be writable again
      reopen();
    }
    out.write(line);
    size += line.length;
    if (failed != null) {
      throw failed;
    }
  }

  private void rotate() throws IOException {
    OutputStream full = out;
    out = null;
    full.close();
    try {
      if (maxRotatedFiles == 0) {
        Files.deleteIfExists(path);
      } else {
        Files.deleteIfExists(rotated(maxRotatedFiles));
        for (int i = maxRotatedFiles - 1; i >= 1; i--) {
          if (Files.exists(rotated(i))) {
            Files.move(rotated(i), rotated(i + 1), StandardCopyOption.REPLACE_EXISTING);
          }
        }
        if (Files.exists(path)) {
          Files.move(path, rotated(1), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      // Keep appending to the full file rather than lose lines; try again after another maxBytes.
      reopen();
      size = 0;
      throw new RotationException("rotating " + path + " failed, still appending to it: " + e, e);
    }
    reopen();
  }

  private void reopen() throws IOException {
    // Never through a symbolic link put in the file's place: it could point out of the allowed directory.
    OutputStream opened = new BufferedOutputStream(FileOutputPolicy.openAppend(path), BUFFER_BYTES);
    out = opened;
    size = Files.size(path);
  }

  /** {@code <path>.<n>}. */
  Path rotated(int n) {
    return path.resolveSibling(path.getFileName() + "." + n);
  }

  @Override
  public void flush() throws IOException {
    if (out != null) {
      out.flush();
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      out.close();
      out = null;
    }
  }

  @Override
  public String name() {
    return path.toString();
  }

  /** A rotation failed; the line that triggered it was still appended to the full file. */
  static final class RotationException extends IOException {
    private static final long serialVersionUID = 1L;

    RotationException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
