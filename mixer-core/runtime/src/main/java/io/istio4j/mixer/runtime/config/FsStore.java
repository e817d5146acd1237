package io.istio4j.mixer.runtime.config;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code fs://DIR}: every {@code .yaml} and {@code .yml} file under a directory, each holding
 * {@code ---}-separated documents. The directory is polled (file list, sizes and modification
 * times; contents compared when those change), so edits are seen within {@code pollInterval}.
 * Polling, unlike inotify, also works on the bind mounts and ConfigMap volumes Mixer runs with.
 */
public final class FsStore implements ConfigStore {

  private static final Logger log = LoggerFactory.getLogger(FsStore.class);

  private final Path dir;
  private final String defaultNamespace;
  private final Duration pollInterval;
  private ScheduledExecutorService poller;
  private Map<Path, Stamp> stamps = Map.of();
  private Map<Path, String> texts = Map.of();

  /**
   * @param dir the directory
   * @param defaultNamespace the namespace of objects that name none
   * @param pollInterval how often to look for changes
   */
  public FsStore(Path dir, String defaultNamespace, Duration pollInterval) {
    this.dir = requireNonNull(dir, "dir");
    this.defaultNamespace = requireNonNull(defaultNamespace, "defaultNamespace");
    this.pollInterval = requireNonNull(pollInterval, "pollInterval");
  }

  /** The directory. */
  public Path directory() {
    return dir;
  }

  @Override
  public synchronized Content read() throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("config directory " + dir + " does not exist or is not a directory");
    }
    Map<Path, Stamp> newStamps = stamps();
    Map<Path, String> newTexts = new TreeMap<>();
    for (Path p : newStamps.keySet()) {
      String previous = Objects.equals(stamps.get(p), newStamps.get(p)) ? texts.get(p) : null;
      try {
        newTexts.put(p, previous != null ? previous : Files.readString(p, StandardCharsets.UTF_8));
      } catch (IOException e) {
        newTexts.put(p, null); // vanished or unreadable between listing and reading; reported below
      }
    }
    stamps = newStamps;
    texts = newTexts;
    return parse(newTexts);
  }

  @Override
  public synchronized Content start(Consumer<Content> onChange) throws IOException {
    Content first = read();
    poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "config-fs-" + dir.getFileName());
      t.setDaemon(true);
      return t;
    });
    long every = pollInterval.toMillis();
    poller.scheduleWithFixedDelay(() -> poll(onChange), every, every, TimeUnit.MILLISECONDS);
    return first;
  }

  private void poll(Consumer<Content> onChange) {
    try {
      Content changed;
      synchronized (this) {
        if (stamps().equals(stamps)) {
          return;
        }
        Map<Path, String> before = texts;
        Content content = read();
        changed = texts.equals(before) ? null : content;
      }
      if (changed != null) {
        onChange.accept(changed);
      }
    } catch (IOException e) {
      log.warn("cannot read config directory {}: {}", dir, e.getMessage());
    } catch (RuntimeException e) {
      log.error("config change could not be applied", e);
    }
  }

  private Map<Path, Stamp> stamps() throws IOException {
    Map<Path, Stamp> result = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return result;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        String name = p.getFileName().toString();
        if (name.endsWith(".yaml") || name.endsWith(".yml")) {
          try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (a.isRegularFile()) {
              result.put(p, new Stamp(a.size(), a.lastModifiedTime().toMillis()));
            }
          } catch (IOException e) {
            // vanished while listing
          }
        }
      }
    }
    return result;
  }

  private Content parse(Map<Path, String> files) {
    List<ConfigObject> objects = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    for (Map.Entry<Path, String> f : files.entrySet()) {
      String name = dir.relativize(f.getKey()).toString();
      if (f.getValue() == null) {
        problems.add(new Problem(name, "cannot be read"));
      } else {
        YamlDocuments.parse(name, f.getValue(), defaultNamespace, objects, problems);
      }
    }
    return new Content(objects, problems);
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
    }
  }

  private record Stamp(long size, long modified) {}
}
