package io.istio4j.mixer.runtime.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code fs://DIR}: every {@code .yaml} and {@code .yml} file under a directory, each holding
 * {@code ---}-separated documents. The directory is polled, so edits are seen within {@code
 * pollInterval}; polling, unlike inotify, also works on the bind mounts and ConfigMap volumes Mixer
 * runs with.
 *
 * <p>A file is used only once it is stable: its size, modification time and content hash are the
 * same in two polls in a row, so a file caught half-written never goes live (an editor or {@code
 * cp} writing in place is seen mid-write; a file written by rename, as kubelet does, is whole at
 * once and merely waits one poll). Until then the version used before stays. Content is hashed
 * every poll, so an edit that keeps the size within the file system's modification-time
 * granularity is not missed. A file that vanishes for one poll (a rename in progress) is kept; one
 * gone for two polls is deleted.
 *
 * <p>Names starting with {@code .} are skipped at every level: kubelet's ConfigMap volume layout
 * ({@code foo.yaml -> ..data/foo.yaml}, {@code ..data -> ..2026_12_03_...}) is then read once,
 * through the top-level links, and editors' hidden lock and swap files are ignored. Symbolic links
 * to files are followed; links to directories are not (no loops).
 */
public final class FsStore implements ConfigStore {

  private static final Logger log = LoggerFactory.getLogger(FsStore.class);
  /** Larger files are not read (the YAML parser refuses documents over 3 MiB anyway). */
  static final long MAX_FILE_BYTES = 8L * 1024 * 1024;
  private static final int MAX_DEPTH = 8;
  /** How many times {@link #start} re-reads a directory that is still changing before it goes on. */
  private static final int SETTLE_ATTEMPTS = 20;

  private final Path dir;
  private final String defaultNamespace;
  private final Duration pollInterval;
  private final Duration settle;
  private ScheduledExecutorService poller;
  /** What the last scan saw, by file name relative to the directory. */
  private Map<String, Seen> lastScan = Map.of();
  /** The files whose content was last handed out. */
  private Map<String, Seen> applied = Map.of();
  private String failing;

  /**
   * @param dir the directory
   * @param defaultNamespace the namespace of objects that name none
   * @param pollInterval how often to look for changes
   */
  public FsStore(Path dir, String defaultNamespace, Duration pollInterval) {
    this(dir, defaultNamespace, pollInterval, pollInterval);
  }

  /** {@code settle}: the pause between the reads {@link #start} compares. */
  FsStore(Path dir, String defaultNamespace, Duration pollInterval, Duration settle) {
    this.dir = requireNonNull(dir, "dir");
    this.defaultNamespace = requireNonNull(defaultNamespace, "defaultNamespace");
    this.pollInterval = requireNonNull(pollInterval, "pollInterval");
    this.settle = requireNonNull(settle, "settle");
  }

  /** The directory. */
  public Path directory() {
    return dir;
  }

  /** Reads every file once, as it is now (for {@code mixs validate}: no waiting for stability). */
  @Override
  public synchronized Content read() throws IOException {
    return parse(scan(), Set.of());
  }

  @Override
  public Content start(Consumer<Content> onChange) throws IOException {
    return start(onChange, e -> { });
  }

  @Override
  public synchronized Content start(Consumer<Content> onChange, Consumer<Throwable> onFailure) throws IOException {
    requireNonNull(onChange, "onChange");
    requireNonNull(onFailure, "onFailure");
    Content first = settled();
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "config-fs-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
    long every = pollInterval.toMillis();
    poller.scheduleWithFixedDelay(() -> poll(onChange, onFailure), every, every, TimeUnit.MILLISECONDS);
    return first;
  }

  /**
   * The first content: the directory is read until two reads in a row agree, at most {@link
   * #SETTLE_ATTEMPTS} times; a file still changing after that is left out and reported, and
   * applies once it is stable.
   */
  private Content settled() throws IOException {
    lastScan = scan();
    for (int attempt = 1; ; attempt++) {
      sleep(settle);
      Map<String, Seen> scan = scan();
      Map<String, Seen> next = stable(scan);
      lastScan = scan;
      if (next.keySet().equals(scan.keySet()) || attempt >= SETTLE_ATTEMPTS) {
        applied = next;
        Set<String> pending = new TreeSet<>(scan.keySet());
        pending.removeAll(next.keySet());
        if (!pending.isEmpty()) {
          log.warn("config files {} kept changing while Mixer started; they apply once they stop changing",
              pending);
        }
        return parse(next, pending);
      }
    }
  }

  private static void sleep(Duration d) throws IOException {
    if (d.isZero()) {
      return;
    }
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading the config directory", e);
    }
  }

  private void poll(Consumer<Content> onChange, Consumer<Throwable> onFailure) {
    // Anything escaping here would cancel every later run of this scheduled task: config would
    // silently stop following the directory. So everything is caught, logged and counted.
    try {
      Content changed = poll();
      if (failing != null) {
        log.info("config directory {} is readable again", dir);
        failing = null;
      }
      if (changed != null) {
        onChange.accept(changed);
      }
    } catch (Throwable e) {
      try {
        onFailure.accept(e);
        String what = e.toString();
        if (!what.equals(failing)) { // once per distinct failure, not every poll
          failing = what;
          if (e instanceof IOException) {
            log.warn("cannot read config directory {}: {}; the config in use stays", dir, e.getMessage());
          } else {
            log.error("reading config directory {} failed; the config in use stays", dir, e);
          }
        }
      } catch (Throwable ignored) {
        // Logging itself failed (out of memory?): still keep the poller alive.
      }
    }
  }

  /** One poll: the new content when a stable file changed, appeared or was deleted; else null. */
  synchronized Content poll() throws IOException {
    Map<String, Seen> scan = scan();
    Map<String, Seen> next = stable(scan);
    lastScan = scan;
    if (same(next, applied)) {
      return null;
    }
    applied = next;
    return parse(next, Set.of());
  }

  /** The files to use after {@code scan}: stable ones as read, changing ones as last applied. */
  private Map<String, Seen> stable(Map<String, Seen> scan) {
    Map<String, Seen> next = new TreeMap<>();
    Set<String> names = new HashSet<>(scan.keySet());
    names.addAll(applied.keySet());
    for (String name : names) {
      Seen now = scan.get(name);
      Seen before = lastScan.get(name);
      Seen used = applied.get(name);
      if (now != null) {
        if (now.same(before)) {
          next.put(name, now);
        } else if (used != null) {
          next.put(name, used); // still changing: keep what is in use
        }
        // else a new file still being written: wait
      } else if (before != null && used != null) {
        next.put(name, used); // gone in this scan only, perhaps mid-rename: wait one more poll
      }
      // else gone for two scans: deleted
    }
    return next;
  }

  private static boolean same(Map<String, Seen> a, Map<String, Seen> b) {
    if (!a.keySet().equals(b.keySet())) {
      return false;
    }
    for (Map.Entry<String, Seen> e : a.entrySet()) {
      if (!e.getValue().same(b.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  private Map<String, Seen> scan() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("config directory " + dir + " does not exist or is not a directory");
    }
    Map<String, Seen> result = new TreeMap<>();
    walk(dir, 0, result);
    return result;
  }

  private void walk(Path d, int depth, Map<String, Seen> into) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(d)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        if (name.startsWith(".")) {
          continue; // kubelet's ..data and ..<timestamp> entries, editors' hidden files
        }
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(p, BasicFileAttributes.class); // follows a link to its target
        } catch (IOException e) {
          continue; // vanished while listing, or a dangling link
        }
        if (a.isDirectory()) {
          if (depth < MAX_DEPTH && !Files.isSymbolicLink(p)) {
            walk(p, depth + 1, into);
          }
        } else if (a.isRegularFile() && (name.endsWith(".yaml") || name.endsWith(".yml"))) {
          into.put(dir.relativize(p).toString(), read(p, a));
        }
      }
    }
  }

  private static Seen read(Path p, BasicFileAttributes a) {
    long modified = a.lastModifiedTime().toMillis();
    if (a.size() > MAX_FILE_BYTES) {
      return new Seen(a.size(), modified, new byte[0], null,
          "too large: " + a.size() + " bytes (expected: at most " + MAX_FILE_BYTES + ")");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(p);
    } catch (IOException e) {
      return new Seen(a.size(), modified, new byte[0], null, "cannot be read: " + e.getMessage());
    } catch (OutOfMemoryError e) {
      return new Seen(a.size(), modified, new byte[0], null, "cannot be read: " + e);
    }
    byte[] hash = sha256(bytes);
    if (bytes.length > MAX_FILE_BYTES) { // grew after its size was read
      return new Seen(bytes.length, modified, hash, null,
          "too large: " + bytes.length + " bytes (expected: at most " + MAX_FILE_BYTES + ")");
    }
    try {
      String text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
      return new Seen(bytes.length, modified, hash, text, null);
    } catch (CharacterCodingException e) {
      return new Seen(bytes.length, modified, hash, null, "not valid UTF-8");
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private Content parse(Map<String, Seen> files, Set<String> pending) {
    List<ConfigObject> objects = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    Set<String> unreadable = new TreeSet<>();
    for (Map.Entry<String, Seen> f : files.entrySet()) {
      String name = f.getKey();
      Seen seen = f.getValue();
      if (seen.text() == null) {
        problems.add(new Problem(name, seen.error()));
        unreadable.add(name);
      } else if (!YamlDocuments.parse(name, seen.text(), defaultNamespace, objects, problems)) {
        unreadable.add(name);
      }
    }
    for (String name : pending) {
      problems.add(new Problem(name, "kept changing while Mixer started; not read until it stops changing"));
    }
    return new Content(objects, problems, unreadable);
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }

  /**
   * One file as a scan saw it.
   *
   * @param text its content, or null when it could not be read
   * @param error why it could not be read, or null
   */
  private record Seen(long size, long modified, byte[] hash, String text, String error) {
    boolean same(Seen other) {
      return other != null && size == other.size && modified == other.modified && Arrays.equals(hash, other.hash)
          && Objects.equals(error, other.error);
    }
  }
}
