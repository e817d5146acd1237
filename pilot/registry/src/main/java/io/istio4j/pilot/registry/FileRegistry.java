package io.istio4j.pilot.registry;

import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Endpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.istio4j.pilot.model.RegistryEvent;
import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Services described by files of Kubernetes {@code v1} objects ({@code file://DIR}): Service,
 * Endpoints, Pod and Node, as {@code kubectl get -o yaml} prints them, converted by the same code
 * as the Kubernetes registry. The embedded default, and the way to describe VMs: a Service without
 * a selector plus a hand-written Endpoints (and a Pod-shaped object per VM for labels and identity).
 *
 * <p>The directory is polled (every second by default), recursively, skipping names that start
 * with a dot (Kubernetes' {@code ..data} and its timestamped directories under a ConfigMap mount;
 * the top-level links into them are read). A file is read only once it is stable: the same size,
 * modification time and content hash at two consecutive polls, or a modification time older than
 * two polls. A file that fails to parse keeps its last good objects: the error is logged with
 * {@code file:line} and shown in {@link #status()}. When the same object appears in two files,
 * the file first in path order wins. Events are fired, on the polling thread, only for the
 * hostnames whose service or instances changed.
 */
public final class FileRegistry extends IndexedRegistry {
  private static final Logger log = LoggerFactory.getLogger(FileRegistry.class);

  private static final Set<String> EXTENSIONS = Set.of(".yaml", ".yml", ".json");
  private static final int MAX_DEPTH = 8;
  private static final int MAX_FILES = 10_000;
  private static final int SYNC_MAX_POLLS = 10;

  /**
   * Where and how to read.
   *
   * @param dir the directory of files
   * @param domain the DNS suffix of hostnames, e.g. {@code cluster.local}
   * @param pollInterval how often the directory is checked
   * @param maxFileBytes files larger than this are rejected (their last good objects are kept)
   */
  public record Options(Path dir, String domain, Duration pollInterval, long maxFileBytes) {
    /** One second between polls. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

    /** 16 MiB, several times the size of 5000 endpoints in one file. */
    public static final long DEFAULT_MAX_FILE_BYTES = 16L << 20;

    public Options {
      requireNonNull(dir, "dir");
      requireNonNull(domain, "domain");
      requireNonNull(pollInterval, "pollInterval");
      if (domain.isEmpty()) {
        throw new IllegalArgumentException("file registry " + dir + ": domain is empty (expected e.g. cluster.local)");
      }
      if (pollInterval.toMillis() < 10) {
        throw new IllegalArgumentException(
            "file registry " + dir + ": poll interval " + pollInterval + " (expected: at least 10ms)");
      }
      if (maxFileBytes < 1) {
        throw new IllegalArgumentException("file registry " + dir + ": maxFileBytes " + maxFileBytes + " (expected: > 0)");
      }
    }

    /** Defaults for a directory. */
    public static Options of(Path dir, String domain) {
      return new Options(dir, domain, DEFAULT_POLL_INTERVAL, DEFAULT_MAX_FILE_BYTES);
    }
  }

  /** The load state of one file. */
  public enum FileState {
    /** Seen but not yet stable. */
    PENDING,
    /** Its current content is loaded. */
    LOADED,
    /** Its current content is rejected; the objects of its last good content are in use. */
    ERROR
  }

  /**
   * What happened to one file, for {@code /debug/registryz}.
   *
   * @param path the file, relative to the directory
   * @param state whether its current content is in use
   * @param objects how many objects of it are in use (from the last good content)
   * @param ignoredKinds kinds in it this registry does not read (e.g. {@code v1/ConfigMap})
   * @param failures how many times a content of this file was rejected
   * @param lastError the last rejection, {@code file:line: message}, or null
   * @param loadedAt when its objects were last loaded, or null if never
   */
  public record FileStatus(
      String path,
      FileState state,
      int objects,
      List<String> ignoredKinds,
      long failures,
      @Nullable String lastError,
      @Nullable Instant loadedAt) {}

  private static final class TrackedFile {
    final String relative;
    long size = -1;
    long mtime = -1;
    byte @Nullable [] hash;
    long appliedSize = -1;
    long appliedMtime = -1;
    byte @Nullable [] appliedHash;
    boolean appliedOk;
    List<KubernetesObjectFile.Located> objects = List.of();
    List<String> ignoredKinds = List.of();
    FileState state = FileState.PENDING;
    long failures;
    @Nullable String lastError;
    @Nullable Instant loadedAt;

    TrackedFile(String relative) {
      this.relative = relative;
    }

    FileStatus status() {
      return new FileStatus(relative, state, objects.size(), ignoredKinds, failures, lastError, loadedAt);
    }
  }

  private record ObjectKey(String kind, String key) {}

  private final Options options;
  private final KubernetesObjectFile parser;
  private final String name;
  private final ScheduledExecutorService thread;
  // Owned by the polling thread.
  private final TreeMap<Path, TrackedFile> files = new TreeMap<>();
  private Map<ObjectKey, HasMetadata> applied = new HashMap<>();
  private int polls;
  private boolean directoryMissingLogged;
  // Published for readers.
  private volatile List<FileStatus> statuses = List.of();
  private volatile @Nullable String directoryError;
  private boolean started;

  /** A registry over {@code options.dir()}; nothing is read before {@link #start()}. */
  public FileRegistry(Options options) {
    super(new KubernetesIndex("file:" + options.dir(), options.domain()));
    this.options = options;
    this.name = "file:" + options.dir();
    this.parser = new KubernetesObjectFile(options.domain(), options.maxFileBytes());
    this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "istio4j-registry-file");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public String name() {
    return name;
  }



  @Override
  public synchronized void start() {
    if (started) {
      return;
    }
    started = true;
    log.info("File registry: watching {} every {} ms", options.dir(), options.pollInterval().toMillis());
    thread.scheduleWithFixedDelay(this::pollSafely, 0, options.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void pollSafely() {
    try {
      poll();
    } catch (RuntimeException | Error e) {
      // A scheduled task that throws is never run again: keep polling whatever happened.
      log.error("File registry {}: poll failed", options.dir(), e);
    }
  }

  /** One pass over the directory; runs on the registry thread. Package-private for tests. */
  void poll() {
    polls++;
    Map<Path, BasicFileAttributes> found;
    try {
      found = list();
      directoryError = null;
      directoryMissingLogged = false;
    } catch (IOException e) {
      // A directory that vanishes (an unmounted volume) keeps the last view: dropping every
      // service because of a mount hiccup would be worse than serving a stale list.
      directoryError = options.dir() + ": " + e;
      if (!directoryMissingLogged) {
        log.warn("File registry: cannot list {} ({}); keeping the last {} objects", options.dir(), e, applied.size());
        directoryMissingLogged = true;
      }
      publishStatuses();
      return;
    }
    boolean changed = false;
    boolean pending = false;
    long now = System.currentTimeMillis();
    long settleMs = 2 * options.pollInterval().toMillis();
    for (Map.Entry<Path, BasicFileAttributes> e : found.entrySet()) {
      TrackedFile f = files.computeIfAbsent(e.getKey(), p -> new TrackedFile(options.dir().relativize(p).toString()));
      changed |= check(e.getKey(), e.getValue(), f, now, settleMs);
      pending |= f.state == FileState.PENDING;
    }
    for (var it = files.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Path, TrackedFile> e = it.next();
      if (!found.containsKey(e.getKey())) {
        it.remove();
        if (!e.getValue().objects.isEmpty()) {
          changed = true;
        }
        log.info("File registry: {} removed ({} objects)", e.getValue().relative, e.getValue().objects.size());
      }
    }
    if (changed) {
      apply();
    }
    publishStatuses();
    if (!hasSynced() && (!pending || polls >= SYNC_MAX_POLLS)) {
      if (pending) {
        log.warn("File registry {}: some files still change after {} polls; reporting synced without them",
            options.dir(), polls);
      }
      markSynced();
      log.info("File registry {}: synced, {} files, {} services, {} instances",
          options.dir(), files.size(), index.services().size(), index.instanceCount());
    }
  }

  private Map<Path, BasicFileAttributes> list() throws IOException {
    Path dir = options.dir();
    if (!Files.isDirectory(dir)) {
      throw new IOException("not a directory");
    }
    Map<Path, BasicFileAttributes> out = new TreeMap<>();
    Files.walkFileTree(dir, EnumSet.of(FileVisitOption.FOLLOW_LINKS), MAX_DEPTH, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
        return !d.equals(dir) && hidden(d) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        if (attrs.isRegularFile() && !hidden(file) && hasExtension(file)) {
          if (out.size() >= MAX_FILES) {
            log.warn("File registry {}: more than {} files; ignoring {}", dir, MAX_FILES, file);
            return FileVisitResult.TERMINATE;
          }
          out.put(file, attrs);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException exc) {
        // A dangling link or a file removed while walking: it is simply not there this time.
        log.debug("File registry: skipping {}: {}", file, exc.toString());
        return FileVisitResult.CONTINUE;
      }
    });
    return out;
  }

  private static boolean hidden(Path p) {
    Path n = p.getFileName();
    return n != null && n.toString().startsWith(".");
  }

  private static boolean hasExtension(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    for (String ext : EXTENSIONS) {
      if (n.endsWith(ext)) {
        return true;
      }
    }
    return false;
  }

  // True when the file's objects changed.
  private boolean check(Path path, BasicFileAttributes attrs, TrackedFile f, long now, long settleMs) {
    long size = attrs.size();
    long mtime = attrs.lastModifiedTime().toMillis();
    if (size == f.appliedSize && mtime == f.appliedMtime && f.appliedHash != null) {
      f.size = size;
      f.mtime = mtime;
      f.state = f.appliedOk ? FileState.LOADED : FileState.ERROR;
      return false; // unchanged since last loaded (or last rejected)
    }
    boolean statStable = size == f.size && mtime == f.mtime;
    boolean old = now - mtime > settleMs;
    f.size = size;
    f.mtime = mtime;
    if (!statStable && !old) {
      f.hash = null;
      markPending(f);
      return false;
    }
    if (size > options.maxFileBytes()) {
      return reject(f, size, mtime, new byte[0],
          f.relative + ":1: the file is " + size + " bytes (expected: at most " + options.maxFileBytes() + ")");
    }
    byte[] content;
    try {
      content = Files.readAllBytes(path);
      BasicFileAttributes after = Files.readAttributes(path, BasicFileAttributes.class);
      if (after.size() != size || after.lastModifiedTime().toMillis() != mtime) {
        f.hash = null;
        markPending(f); // written while we read it
        return false;
      }
    } catch (IOException e) {
      return reject(f, size, mtime, new byte[0], f.relative + ":1: cannot read: " + e);
    }
    byte[] hash = sha256(content);
    boolean hashStable = f.hash != null && Arrays.equals(hash, f.hash);
    f.hash = hash;
    if (!old && !hashStable) {
      markPending(f);
      return false;
    }
    if (Arrays.equals(hash, f.appliedHash)) {
      f.appliedSize = size;
      f.appliedMtime = mtime;
      f.state = f.appliedOk ? FileState.LOADED : FileState.ERROR;
      return false; // touched, same content
    }
    KubernetesObjectFile.Parsed parsed;
    try {
      parsed = parser.parse(f.relative, content);
    } catch (KubernetesObjectFile.ParseException e) {
      return reject(f, size, mtime, hash, e.getMessage());
    }
    f.appliedSize = size;
    f.appliedMtime = mtime;
    f.appliedHash = hash;
    f.appliedOk = true;
    f.objects = parsed.objects();
    f.ignoredKinds = parsed.ignoredKinds();
    f.state = FileState.LOADED;
    f.lastError = null;
    f.loadedAt = Instant.now();
    if (parsed.ignoredKinds().isEmpty()) {
      log.info("File registry: loaded {} ({} objects)", f.relative, parsed.objects().size());
    } else {
      log.info("File registry: loaded {} ({} objects; ignored kinds {})",
          f.relative, parsed.objects().size(), parsed.ignoredKinds());
    }
    return true;
  }

  private static void markPending(TrackedFile f) {
    f.state = FileState.PENDING;
  }

  private boolean reject(TrackedFile f, long size, long mtime, byte[] hash, String message) {
    f.appliedSize = size;
    f.appliedMtime = mtime;
    f.appliedHash = hash;
    f.appliedOk = false;
    f.state = FileState.ERROR;
    f.failures++;
    f.lastError = message;
    log.warn("File registry: rejected {}; keeping its last good {} objects", message, f.objects.size());
    return false;
  }

  private static byte[] sha256(byte[] content) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(content);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  // Merges every file's objects (first file in path order wins), then applies only the difference.
  private void apply() {
    Map<ObjectKey, HasMetadata> desired = new HashMap<>();
    Map<ObjectKey, String> owner = new HashMap<>();
    for (TrackedFile f : files.values()) {
      for (KubernetesObjectFile.Located l : f.objects) {
        ObjectKey k = keyOf(l.object());
        String first = owner.putIfAbsent(k, f.relative + ":" + l.line());
        if (first == null) {
          desired.put(k, l.object());
        } else {
          log.warn("File registry: {} {} at {}:{} is shadowed by {}", k.kind(), k.key(), f.relative, l.line(), first);
        }
      }
    }
    List<RegistryEvent> events = new ArrayList<>();
    // Removals first (a service before its endpoints: one SERVICE DELETE, no INSTANCES event),
    // then additions in dependency order, so instances are computed once with their pods and
    // nodes already known.
    for (String kind : List.of("Service", "Endpoints", "Pod", "Node")) {
      for (ObjectKey k : applied.keySet()) {
        if (k.kind().equals(kind) && !desired.containsKey(k)) {
          remove(k, events);
        }
      }
    }
    for (String kind : List.of("Node", "Pod", "Service", "Endpoints")) {
      for (Map.Entry<ObjectKey, HasMetadata> e : desired.entrySet()) {
        if (e.getKey().kind().equals(kind) && !e.getValue().equals(applied.get(e.getKey()))) {
          put(e.getValue(), events);
        }
      }
    }
    applied = desired;
    fire(events, log);
  }

  private static ObjectKey keyOf(HasMetadata o) {
    String kind = o.getKind() == null ? o.getClass().getSimpleName() : o.getKind();
    if (o instanceof Node) {
      return new ObjectKey("Node", o.getMetadata().getName());
    }
    return new ObjectKey(kind, KubernetesIndex.key(o.getMetadata()));
  }

  private void remove(ObjectKey k, List<RegistryEvent> events) {
    switch (k.kind()) {
      case "Service" -> index.removeService(k.key(), events);
      case "Endpoints" -> index.removeEndpoints(k.key(), events);
      case "Pod" -> index.removePod(k.key(), events);
      case "Node" -> index.removeNode(k.key(), events);
      default -> throw new IllegalStateException("unexpected kind " + k.kind());
    }
  }

  private void put(HasMetadata o, List<RegistryEvent> events) {
    if (o instanceof Service s) {
      index.putService(s, events);
    } else if (o instanceof Endpoints e) {
      index.putEndpoints(e, events);
    } else if (o instanceof Pod p) {
      index.putPod(p, events);
    } else if (o instanceof Node n) {
      index.putNode(n, events);
    }
  }



  private void publishStatuses() {
    List<FileStatus> s = new ArrayList<>(files.size());
    for (TrackedFile f : files.values()) {
      s.add(f.status());
    }
    statuses = List.copyOf(s);
  }

  /** Each file's load state, in path order. */
  public List<FileStatus> fileStatus() {
    return statuses;
  }

  @Override
  public Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("dir", options.dir().toString());
    out.put("domain", options.domain());
    out.put("pollIntervalMs", options.pollInterval().toMillis());
    out.put("synced", hasSynced());
    out.put("services", index.services().size());
    out.put("instances", index.instanceCount());
    out.put("events", eventsFired());
    if (directoryError != null) {
      out.put("directoryError", directoryError);
    }
    List<Map<String, Object>> fl = new ArrayList<>();
    for (FileStatus f : statuses) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", f.path());
      m.put("state", f.state().name());
      m.put("objects", f.objects());
      if (!f.ignoredKinds().isEmpty()) {
        m.put("ignoredKinds", f.ignoredKinds());
      }
      m.put("failures", f.failures());
      if (f.lastError() != null) {
        m.put("lastError", f.lastError());
      }
      if (f.loadedAt() != null) {
        m.put("loadedAt", f.loadedAt().toString());
      }
      fl.add(m);
    }
    out.put("files", fl);
    return out;
  }















  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
