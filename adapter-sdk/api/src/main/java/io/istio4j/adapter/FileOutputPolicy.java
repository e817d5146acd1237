package io.istio4j.adapter;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The directories an adapter may create and write files in, as the operator allowed them with
 * {@code mixs server --allowedOutputDir DIR} (repeatable; none by default). A config can name a
 * file anywhere, so an adapter that writes files asks {@link #resolve(String)} first: a path with
 * {@code ..}, a path whose directory is not (after following its symbolic links) inside an allowed
 * directory, and a path that is itself a symbolic link are refused with a message naming the path
 * and the flag.
 *
 * <pre>{@code
 * Path file = env.fileOutputPolicy().resolve(params.getOutputPath()); // IllegalArgumentException if not allowed
 * try (OutputStream out = FileOutputPolicy.openAppend(file)) { ... }
 * }</pre>
 */
public final class FileOutputPolicy {

  /** The {@code mixs server} flag that allows a directory. */
  public static final String FLAG = "--allowedOutputDir";

  private static final FileOutputPolicy NONE = new FileOutputPolicy(List.of());

  private final List<Path> directories;

  private FileOutputPolicy(List<Path> directories) {
    this.directories = directories;
  }

  /** Allows no file at all: Mixer's default. */
  public static FileOutputPolicy none() {
    return NONE;
  }

  /**
   * Allows files in {@code directories} and below them. Each is taken by its real path (symbolic
   * links followed once, now).
   *
   * @throws IllegalArgumentException if one is not an existing directory
   */
  public static FileOutputPolicy allowing(Collection<Path> directories) {
    requireNonNull(directories, "directories");
    List<Path> real = new ArrayList<>();
    for (Path d : directories) {
      requireNonNull(d, "directory");
      try {
        Path r = d.toRealPath();
        if (!Files.isDirectory(r)) {
          throw new IllegalArgumentException(FLAG + " " + d + ": not a directory");
        }
        real.add(r);
      } catch (IOException e) {
        throw new IllegalArgumentException(FLAG + " " + d + ": not an existing directory (" + e.getMessage() + ")");
      }
    }
    return real.isEmpty() ? NONE : new FileOutputPolicy(List.copyOf(real));
  }

  /** The allowed directories, by their real paths; empty when none is. */
  public List<Path> directories() {
    return directories;
  }

  /**
   * The file an adapter may write for a configured path: absolute, its directory's symbolic links
   * resolved, inside an allowed directory. A relative path is taken from the working directory.
   *
   * @throws IllegalArgumentException naming {@code configured} and the flag when the file may not
   *     be written: outside every allowed directory, with a {@code ..} element, in a directory that
   *     does not exist, a symbolic link or a directory itself
   */
  public Path resolve(String configured) {
    requireNonNull(configured, "configured");
    String quoted = "'" + configured + "'";
    if (configured.isEmpty()) {
      throw new IllegalArgumentException("empty path (expected: a file in a directory allowed with " + FLAG + ")");
    }
    Path path;
    try {
      path = Path.of(configured);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException(quoted + " is not a file path: " + e.getMessage());
    }
    for (Path element : path) {
      if (element.toString().equals("..")) {
        throw new IllegalArgumentException(quoted + " has a '..' element (expected: a path inside a directory allowed "
            + "with " + FLAG + ", without '..')");
      }
    }
    Path absolute = path.toAbsolutePath().normalize();
    Path parent = absolute.getParent();
    Path name = absolute.getFileName();
    if (parent == null || name == null) {
      throw new IllegalArgumentException(quoted + " is not a file path (expected: a file in a directory allowed with "
          + FLAG + ")");
    }
    if (directories.isEmpty()) {
      throw new IllegalArgumentException(quoted + ": writing files is not allowed (start mixs server with " + FLAG
          + " DIR to allow files in DIR)");
    }
    Path realParent;
    try {
      realParent = parent.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException(quoted + ": directory " + parent + " does not exist");
    }
    Path file = realParent.resolve(name);
    if (directories.stream().noneMatch(d -> realParent.startsWith(d))) {
      throw new IllegalArgumentException(quoted + (file.equals(absolute) ? "" : " (really " + file + ")")
          + " is outside the directories allowed with " + FLAG + " " + directories);
    }
    if (Files.isSymbolicLink(file)) {
      throw new IllegalArgumentException(quoted + " is a symbolic link (expected: a regular file; links are not "
          + "followed out of the directories allowed with " + FLAG + ")");
    }
    if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException(quoted + " is a directory (expected: a file)");
    }
    return file;
  }

  /**
   * Opens a file {@link #resolve resolved} by a policy for appending, creating it if needed,
   * without following a symbolic link put in its place since.
   */
  public static OutputStream openAppend(Path file) throws IOException {
    return Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE,
        LinkOption.NOFOLLOW_LINKS);
  }

  @Override
  public String toString() {
    return directories.isEmpty() ? "no file output allowed" : "file output allowed in " + directories;
  }
}
