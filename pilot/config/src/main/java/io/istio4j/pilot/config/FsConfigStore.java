package io.istio4j.pilot.config;

import static java.util.Objects.requireNonNull;

import io.istio4j.pilot.model.Config;
import io.istio4j.pilot.model.ConfigEvent;
import io.istio4j.pilot.model.ConfigKind;
import io.istio4j.pilot.model.ConfigStoreException;
import io.istio4j.pilot.model.TlsSecret;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code fs://DIR}: RouteRules, DestinationPolicies and EgressRules read from the {@code .yaml},
 * {@code .yml} and {@code .json} files under a directory ({@link ConfigParser} for the format),
 * watched by polling. It behaves as Mixer's {@code fs://} store does:
 *
 * <ul>
 *   <li>Polling (every second by default), unlike inotify, works on the bind mounts and ConfigMap
 *       volumes Pilot runs with.
 *   <li>A file is used only once it is stable: the same size, times and content in two polls in a
 *       row, so a file caught half-written never goes live. A file written by rename (kubelet) is
 *       whole at once and merely waits one poll. A file gone for one poll (a rename in progress) is
 *       kept; gone for two, its objects are deleted.
 *   <li>Names starting with {@code .} are skipped at every level (kubelet's {@code ..data}, editors'
 *       swap files).
 *   <li>The last valid version of an object stays served when its latest version is invalid, and
 *       every object of a file that can no longer be read (a YAML syntax error, too large, binary)
 *       stays too; {@link #statuses()} says which objects are stale and why.
 *   <li>Listeners hear only of real changes: rewriting a file with the same objects, or moving an
 *       object to another file, fires nothing.
 * </ul>
 *
 * <p>Kubernetes Ingress objects (of the class the parser's {@link IngressOptions} accept) are served
 * as IngressRules ({@link IngressConversion}), with the {@code kubernetes.io/tls} Secrets of the
 * directory as their certificates ({@link #tlsSecret}); a changed Secret is an UPDATE of the rules
 * naming it. IngressRule objects written directly in files are validated but not served (0.2 made
 * them only from Ingress objects).
 *
 * <p>The store is read-only: {@code create}, {@code update} and {@code delete} fail (edit the
 * files).
 * When one object is defined twice, the first definition in file-name order is used.
 */
public final class FsConfigStore implements ValidatingConfigStore {
  private static final Logger log = LoggerFactory.getLogger(FsConfigStore.class);
  /** How many times {@link #start} re-reads a directory that is still changing before it goes on. */
  private static final int SETTLE_ATTEMPTS = 20;
  /**
   * A file modified this recently is re-read every poll even when its size and times look the same,
   * since an edit within the file system's timestamp granularity would otherwise go unseen.
   */
  private static final long RECENT_NANOS = TimeUnit.SECONDS.toNanos(3);

  private final Path dir;
  private final ConfigParser parser;
  private final Duration pollInterval;
  private final Duration settle;
  private final ConfigCache cache = new ConfigCache();
  private final AtomicLong revision = new AtomicLong();
  private final Set<ConfigKind> kinds = Set.copyOf(EnumSet.of(ConfigKind.ROUTE_RULE, ConfigKind.DESTINATION_POLICY,
      ConfigKind.EGRESS_RULE, ConfigKind.INGRESS_RULE));
  /** The TLS secrets served, by {@code <name>.<namespace>}; replaced whole by {@link #reconcile}. */
  private volatile Map<String, TlsSecret> secrets = Map.of();

  private ScheduledExecutorService poller;
  private volatile boolean synced;
  private volatile boolean closed;
  private @Nullable String failing;

  /** What the last scan saw, by file name relative to the directory. */
  private Map<String, Seen> lastScan = Map.of();
  /** The files whose content is in use. */
  private Map<String, Seen> applied = new TreeMap<>();
  /** The parsed content of the files in use. */
  private final Map<String, ParsedFile> parsed = new HashMap<>();
  /** Where each served object's version came from. */
  private final Map<String, String> servedFrom = new HashMap<>();
  /** The file of each served object's version. */
  private final Map<String, String> servedFile = new HashMap<>();
  private volatile List<ConfigObjectStatus> statuses = List.of();
  /** The file each served TLS secret came from. */
  private final Map<String, String> secretFile = new HashMap<>();

  /** A store polling {@code dir} every second, objects without a namespace in {@code default}. */
  public FsConfigStore(Path dir) {
    this(dir, new ConfigParser(), Duration.ofSeconds(1));
  }

  /**
   * @param dir the directory
   * @param parser reads the files (default namespace, domain suffix)
   * @param pollInterval how often to look for changes
   */
  public FsConfigStore(Path dir, ConfigParser parser, Duration pollInterval) {
    this(dir, parser, pollInterval, pollInterval.compareTo(Duration.ofMillis(200)) < 0 ? pollInterval
        : Duration.ofMillis(200));
  }

  FsConfigStore(Path dir, ConfigParser parser, Duration pollInterval, Duration settle) {
    this.dir = requireNonNull(dir, "dir");
    this.parser = requireNonNull(parser, "parser");
    this.pollInterval = requireNonNull(pollInterval, "pollInterval");
    this.settle = requireNonNull(settle, "settle");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval: " + pollInterval + " (expected: > 0)");
    }
  }

  /** The directory. */
  public Path directory() {
    return dir;
  }

  @Override
  public String url() {
    return "fs://" + dir;
  }

  @Override
  public Set<ConfigKind> kinds() {
    return kinds;
  }

  @Override
  public Optional<Config> get(ConfigKind kind, String name, String namespace) {
    return cache.get(kind, name, namespace);
  }

  @Override
  public List<Config> list(ConfigKind kind, String namespace) {
    return cache.list(kind, namespace);
  }

  @Override
  public Optional<TlsSecret> tlsSecret(String reference) {
    return Optional.ofNullable(secrets.get(reference));
  }

  @Override
  public String create(Config config) {
    throw readOnly(config.key());
  }

  @Override
  public String update(Config config) {
    throw readOnly(config.key());
  }

  @Override
  public void delete(ConfigKind kind, String name, String namespace) {
    throw readOnly(kind.type() + "/" + namespace + "/" + name);
  }

  private ConfigStoreException readOnly(String key) {
    return new ConfigStoreException(key + ": " + url() + " is read-only (edit the files in " + dir + ")");
  }

  @Override
  public void addListener(Consumer<ConfigEvent> listener) {
    cache.addListener(listener);
  }

  @Override
  public List<ConfigObjectStatus> statuses() {
    return statuses;
  }

  /**
   * Starts watching and returns at once: the first read (which waits until the directory is stable
   * for a moment) and then the polls run on the store's thread; {@link #hasSynced()} turns true
   * after the first read, whose objects reach listeners as ADD events.
   */
  @Override
  public synchronized void start() {
    if (poller != null) {
      return;
    }
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "pilot-config-fs-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
    poller.execute(() -> {
      try {
        initialLoad();
      } catch (Throwable e) {
        failed(e);
      }
      synced = true;
      log.info("config {}: {} objects loaded", url(), cache.size());
    });
    long every = pollInterval.toMillis();
    poller.scheduleWithFixedDelay(this::pollGuarded, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public boolean hasSynced() {
    return synced;
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (poller != null) {
      poller.shutdownNow();
    }
  }

  /** The first read: repeated until two reads agree (at most {@link #SETTLE_ATTEMPTS} times). */
  private void initialLoad() throws IOException, InterruptedException {
    synchronized (this) {
      lastScan = scan();
    }
    for (int attempt = 1; ; attempt++) {
      Thread.sleep(settle.toMillis());
      synchronized (this) {
        Map<String, Seen> scan = scan();
        Map<String, Seen> next = stable(scan);
        lastScan = scan;
        if (next.keySet().equals(scan.keySet()) || attempt >= SETTLE_ATTEMPTS || closed) {
          Set<String> pending = new HashSet<>(scan.keySet());
          pending.removeAll(next.keySet());
          if (!pending.isEmpty()) {
            log.warn("config files {} kept changing while Pilot started; they apply once they stop changing",
                pending);
          }
          apply(next);
          return;
        }
      }
    }
  }

  private void pollGuarded() {
    // Anything escaping would cancel every later run: config would silently stop following the
    // directory. So everything is caught and logged once per distinct failure.
    try {
      poll();
      if (failing != null) {
        log.info("config directory {} is readable again", dir);
        failing = null;
      }
    } catch (Throwable e) {
      failed(e);
    }
  }

  private void failed(Throwable e) {
    try {
      String what = e.toString();
      if (!what.equals(failing)) {
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

  /** One poll: applies the files that changed and are stable. Tests call it directly. */
  synchronized void poll() throws IOException {
    Map<String, Seen> scan = scan();
    Map<String, Seen> next = stable(scan);
    lastScan = scan;
    apply(next);
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
        if (now.sameAs(before)) {
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

  private Map<String, Seen> scan() throws IOException {
    long now = System.currentTimeMillis() * 1_000_000L;
    Map<String, Seen> out = new TreeMap<>();
    for (Map.Entry<String, BasicFileAttributes> e : ConfigFiles.list(dir).entrySet()) {
      String name = e.getKey();
      Seen previous = lastScan.get(name);
      Stat stat = stat(dir.resolve(name), e.getValue());
      if (previous != null && previous.stat().equals(stat) && now - stat.modifiedNanos() > RECENT_NANOS) {
        out.put(name, previous); // unchanged by every measure the file system gives: not re-read
      } else {
        out.put(name, read(dir.resolve(name), stat));
      }
    }
    return out;
  }

  /** Size, times and identity; ctime and inode where the file system reports them (Linux). */
  private record Stat(long size, long modifiedNanos, long changedNanos, @Nullable Object fileKey) {}

  private static Stat stat(Path p, BasicFileAttributes a) {
    long changed = -1;
    try {
      Object ctime = Files.getAttribute(p, "unix:ctime");
      if (ctime instanceof FileTime t) {
        changed = t.to(TimeUnit.NANOSECONDS);
      }
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      changed = -1; // no unix view: size, mtime and content decide
    }
    return new Stat(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), changed, a.fileKey());
  }

  private static Seen read(Path p, Stat stat) {
    if (stat.size() > ConfigParser.MAX_FILE_BYTES) {
      return new Seen(stat, new byte[0], null, "too large: " + stat.size()
          + " bytes (expected: at most " + ConfigParser.MAX_FILE_BYTES + ")");
    }
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(p);
    } catch (IOException e) {
      return new Seen(stat, new byte[0], null, "cannot be read: " + e.getMessage());
    } catch (OutOfMemoryError e) {
      return new Seen(stat, new byte[0], null, "cannot be read: " + e);
    }
    return new Seen(stat, sha256(bytes), bytes, null);
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** Applies the files to use: parses the changed ones and updates the served objects. */
  private void apply(Map<String, Seen> next) {
    boolean changed = !next.keySet().equals(applied.keySet());
    for (Map.Entry<String, Seen> e : next.entrySet()) {
      String name = e.getKey();
      Seen seen = e.getValue();
      Seen used = applied.get(name);
      if (used != null && used.sameContent(seen) && parsed.containsKey(name)) {
        continue;
      }
      changed = true;
      parsed.put(name, parse(name, seen));
    }
    parsed.keySet().retainAll(next.keySet());
    // Drop the bytes of applied files: only their hash is needed to notice the next change.
    Map<String, Seen> kept = new TreeMap<>();
    next.forEach((name, seen) -> kept.put(name, seen.withoutBytes()));
    applied = kept;
    lastScan = withoutBytes(lastScan, kept);
    if (changed || statuses.isEmpty() && !next.isEmpty()) {
      reconcile();
    }
  }

  private static Map<String, Seen> withoutBytes(Map<String, Seen> scan, Map<String, Seen> kept) {
    Map<String, Seen> out = new TreeMap<>();
    scan.forEach((name, seen) -> {
      Seen k = kept.get(name);
      out.put(name, k != null && k.sameAs(seen) ? k : seen);
    });
    return out;
  }

  private ParsedFile parse(String name, Seen seen) {
    if (seen.problem() != null) {
      return new ParsedFile(name, name + ": " + seen.problem(), List.of());
    }
    try {
      return parser.parse(name, seen.bytes());
    } catch (RuntimeException | StackOverflowError e) {
      // The parser reports bad input as data; anything thrown is a bug, and must not stop the store.
      log.error("config file {}: reading it failed", name, e);
      return new ParsedFile(name, name + ": cannot be read: " + e, List.of());
    }
  }

  /** Works out the objects to serve from the parsed files and applies the difference. */
  private void reconcile() {
    // Secrets first: a listener that reads a new rule's certificate finds it.
    Set<String> changedSecrets = reconcileSecrets();
    Set<String> told = new HashSet<>();
    Map<String, ConfigDocument> valid = new LinkedHashMap<>();
    Map<String, String> fileOf = new HashMap<>();
    Map<String, ConfigDocument> invalid = new LinkedHashMap<>();
    List<ConfigObjectStatus> problems = new ArrayList<>();
    Map<String, String> unreadable = new HashMap<>();
    for (String name : new TreeMap<>(parsed).keySet()) {
      ParsedFile f = parsed.get(name);
      if (!f.readable()) {
        unreadable.put(name, f.error());
        continue;
      }
      for (ConfigDocument d : f.documents()) {
        if (d.status() == ConfigDocument.Status.IGNORED || (d.kind() != null && !kinds.contains(d.kind()))) {
          continue;
        }
        if (d.kind() == ConfigKind.INGRESS_RULE && !d.kubernetesKind().equals(IngressConversion.KIND)) {
          continue; // an IngressRule written by hand: validated, not served
        }
        if (!d.hasIdentity()) {
          // A refused TLS Secret is listed under its own name, as k8s:// lists it.
          boolean secret = d.kubernetesKind().equals("Secret") && !d.name().isEmpty();
          if (secret) {
            log.warn("config {}", d.describe().replace('\n', ';'));
          }
          problems.add(new ConfigObjectStatus(secret ? "secret/" + d.namespace() + "/" + d.name() : "", d.source(),
              ConfigObjectStatus.State.REJECTED, lines(d), ""));
          continue;
        }
        String key = d.key();
        if (valid.containsKey(key) || invalid.containsKey(key)) {
          ConfigDocument first = valid.containsKey(key) ? valid.get(key) : invalid.get(key);
          problems.add(new ConfigObjectStatus(key, d.source(), ConfigObjectStatus.State.REJECTED,
              List.of(d.objectName() + ": defined again (first at " + first.source() + "; that one is used)"), ""));
          continue;
        }
        (d.status() == ConfigDocument.Status.VALID ? valid : invalid).put(key, d);
        fileOf.put(key, name);
      }
    }

    List<ConfigObjectStatus> out = new ArrayList<>(problems);
    Set<String> serve = new HashSet<>();
    for (Map.Entry<String, ConfigDocument> e : valid.entrySet()) {
      String key = e.getKey();
      Config config = e.getValue().config();
      Optional<Config> current = cache.get(key);
      if (current.isEmpty() || !ConfigCache.sameContent(current.get(), config)) {
        told.add(key);
        cache.put(new Config(config.meta().withResourceVersion(Long.toString(revision.incrementAndGet())),
            config.spec()));
      }
      servedFrom.put(key, e.getValue().source());
      servedFile.put(key, fileOf.get(key));
      serve.add(key);
      out.add(new ConfigObjectStatus(key, e.getValue().source(), ConfigObjectStatus.State.VALID, List.of(), ""));
    }
    for (Map.Entry<String, ConfigDocument> e : invalid.entrySet()) {
      String key = e.getKey();
      boolean live = cache.get(key).isPresent();
      if (live) {
        serve.add(key);
        log.warn("config {}: keeping the last valid version ({}): {}", key, servedFrom.get(key),
            e.getValue().describe().replace('\n', ';'));
      } else {
        log.warn("config {}: rejected: {}", key, e.getValue().describe().replace('\n', ';'));
      }
      out.add(new ConfigObjectStatus(key, e.getValue().source(),
          live ? ConfigObjectStatus.State.STALE : ConfigObjectStatus.State.REJECTED, lines(e.getValue()),
          live ? servedFrom.get(key) : ""));
    }
    for (String key : cache.keys()) {
      if (serve.contains(key)) {
        continue;
      }
      String from = servedFrom.get(key);
      String file = servedFile.get(key);
      if (file != null && unreadable.containsKey(file)) {
        // A file that no longer reads does not drop the objects it held.
        serve.add(key);
        out.add(new ConfigObjectStatus(key, file, ConfigObjectStatus.State.STALE, List.of(unreadable.get(file)), from));
      } else {
        cache.remove(key);
        servedFrom.remove(key);
        servedFile.remove(key);
      }
    }
    for (String ref : changedSecrets) {
      cache.secretChanged(ref, told);
    }
    for (Map.Entry<String, String> u : unreadable.entrySet()) {
      log.warn("config {}", u.getValue());
      out.add(new ConfigObjectStatus("", u.getKey(), ConfigObjectStatus.State.REJECTED, List.of(u.getValue()), ""));
    }
    out.sort((a, b) -> a.key().equals(b.key()) ? a.source().compareTo(b.source()) : a.key().compareTo(b.key()));
    statuses = List.copyOf(out);
  }

  /**
   * The TLS secrets of the readable files (the first definition in file-name order wins; a file that
   * no longer reads keeps its secrets, as it keeps its objects); returns the references whose content
   * changed.
   */
  private Set<String> reconcileSecrets() {
    Map<String, TlsSecret> next = new HashMap<>();
    Map<String, TlsSecret> old = secrets;
    for (Map.Entry<String, ParsedFile> e : new TreeMap<>(parsed).entrySet()) {
      List<TlsSecret> fileSecrets = e.getValue().readable() ? e.getValue().secrets()
          : old.values().stream().filter(s -> e.getKey().equals(secretFile.get(s.reference()))).toList();
      for (TlsSecret s : fileSecrets) {
        if (next.containsKey(s.reference())) {
          log.warn("config {}: TLS secret {}/{} is defined again; the first definition is used", e.getKey(),
              s.namespace(), s.name());
          continue;
        }
        TlsSecret before = old.get(s.reference());
        boolean same = before != null && before.certificateChain().equals(s.certificateChain())
            && before.privateKey().equals(s.privateKey());
        next.put(s.reference(), same ? before : new TlsSecret(s.namespace(), s.name(),
            Long.toString(revision.incrementAndGet()), s.certificateChain(), s.privateKey()));
        secretFile.put(s.reference(), e.getKey());
      }
    }
    Set<String> changed = new HashSet<>();
    for (String ref : next.keySet()) {
      if (next.get(ref) != old.get(ref)) {
        changed.add(ref);
      }
    }
    for (String ref : old.keySet()) {
      if (!next.containsKey(ref)) {
        changed.add(ref);
        secretFile.remove(ref);
      }
    }
    secrets = Map.copyOf(next);
    return changed;
  }

  private static List<String> lines(ConfigDocument d) {
    return List.of(d.describe().split("\n"));
  }

  /**
   * One file as a scan saw it.
   *
   * @param bytes its content until applied (then null), or null when it could not be read
   * @param problem why it could not be read, or null
   */
  private record Seen(Stat stat, byte[] hash, byte @Nullable [] bytes, @Nullable String problem) {
    boolean sameAs(@Nullable Seen other) {
      return other != null && stat.equals(other.stat) && sameContent(other);
    }

    boolean sameContent(Seen other) {
      return Arrays.equals(hash, other.hash) && Objects.equals(problem, other.problem);
    }

    Seen withoutBytes() {
      return bytes == null ? this : new Seen(stat, hash, null, problem);
    }
  }
}
