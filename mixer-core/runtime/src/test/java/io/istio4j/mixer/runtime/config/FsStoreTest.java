package io.istio4j.mixer.runtime.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fs:// store reads files only when they are stable, sees every edit, and reads ConfigMap volumes once. */
class FsStoreTest {

  /** Polled by hand: the scheduled poll never runs within a test. */
  private static final Duration NEVER = Duration.ofHours(1);

  static String handler(String name, int validUseCount) {
    return """
        apiVersion: config.istio.io/v1alpha2
        kind: testcheck
        metadata: {name: %s, namespace: istio-system}
        spec: {validUseCount: %d}
        """.formatted(name, validUseCount);
  }

  private static FsStore store(Path dir) {
    return new FsStore(dir, "istio-system", NEVER, Duration.ZERO);
  }

  private static List<String> specs(ConfigStore.Content c) {
    return c.objects().stream().map(o -> o.fqn() + "=" + o.spec()).toList();
  }

  @Test
  void aHalfWrittenFileNeverGoesLive(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("h.yaml");
    Files.writeString(f, handler("a", 1) + "---\n" + handler("b", 2));
    try (FsStore store = store(dir)) {
      assertThat(specs(store.start(c -> { }))).containsExactly(
          "a.testcheck.istio-system={validUseCount=1}", "b.testcheck.istio-system={validUseCount=2}");

      String full = handler("a", 3) + "---\n" + handler("b", 4);
      Files.writeString(f, full.substring(0, full.length() / 2 + 10)); // cut mid-document, still valid YAML
      assertThat(store.poll()).as("a file seen changing is not read yet").isNull();
      Files.writeString(f, full);
      assertThat(store.poll()).as("changed again since the last poll").isNull();
      ConfigStore.Content settled = store.poll();
      assertThat(specs(settled)).containsExactly(
          "a.testcheck.istio-system={validUseCount=3}", "b.testcheck.istio-system={validUseCount=4}");
      assertThat(store.poll()).isNull();
    }
  }

  @Test
  void aSameSizeEditWithinTheModificationTimeGranularityIsSeen(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("h.yaml");
    Files.writeString(f, handler("a", 1));
    FileTime mtime = Files.getLastModifiedTime(f);
    try (FsStore store = store(dir)) {
      store.start(c -> { });
      Files.writeString(f, handler("a", 2)); // same size
      Files.setLastModifiedTime(f, mtime); // as if written within the same clock tick
      assertThat(store.poll()).isNull();
      assertThat(specs(store.poll())).containsExactly("a.testcheck.istio-system={validUseCount=2}");
    }
  }

  @Test
  void aNewFileWaitsUntilStableAndADeletedOneGoesAfterTwoPolls(@TempDir Path dir) throws Exception {
    try (FsStore store = store(dir)) {
      assertThat(store.start(c -> { }).objects()).isEmpty();
      Files.writeString(dir.resolve("h.yaml"), handler("a", 1));
      assertThat(store.poll()).isNull();
      assertThat(specs(store.poll())).containsExactly("a.testcheck.istio-system={validUseCount=1}");
      Files.delete(dir.resolve("h.yaml"));
      assertThat(store.poll()).as("gone for one poll: maybe a rename in progress").isNull();
      assertThat(store.poll().objects()).isEmpty();
    }
  }

  @Test
  void aKubernetesConfigMapVolumeIsReadOnceAndFollowsItsAtomicSwap(@TempDir Path dir) throws Exception {
    // kubelet's layout: foo.yaml -> ..data/foo.yaml, ..data -> ..<timestamp>/, swapped by renaming ..data_tmp.
    Path v1 = Files.createDirectory(dir.resolve("..2026_12_03_10_00_00.000000001"));
    Files.writeString(v1.resolve("policy.yaml"), handler("a", 1));
    Files.createSymbolicLink(dir.resolve("..data"), dir.relativize(v1));
    Files.createSymbolicLink(dir.resolve("policy.yaml"), Path.of("..data/policy.yaml"));
    try (FsStore store = store(dir)) {
      ConfigStore.Content first = store.start(c -> { });
      assertThat(specs(first)).containsExactly("a.testcheck.istio-system={validUseCount=1}");
      assertThat(first.problems()).as("nothing read twice, so nothing defined twice").isEmpty();
      assertThat(first.objects().get(0).source()).isEqualTo("policy.yaml");

      Path v2 = Files.createDirectory(dir.resolve("..2026_12_03_10_05_00.000000002"));
      Files.writeString(v2.resolve("policy.yaml"), handler("a", 2));
      Files.createSymbolicLink(dir.resolve("..data_tmp"), dir.relativize(v2));
      Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      Files.walk(v1).sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());

      assertThat(store.poll()).isNull();
      ConfigStore.Content swapped = store.poll();
      assertThat(specs(swapped)).containsExactly("a.testcheck.istio-system={validUseCount=2}");
      assertThat(swapped.problems()).isEmpty();
    }
  }

  @Test
  void filesInSubdirectoriesAreReadAndHiddenOnesAreNot(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("team/a"));
    Files.writeString(dir.resolve("team/a/h.yaml"), handler("a", 1));
    Files.writeString(dir.resolve(".#h.yaml"), handler("lock", 1)); // an editor's lock file
    Files.createDirectories(dir.resolve(".git"));
    Files.writeString(dir.resolve(".git/h.yaml"), handler("git", 1));
    try (FsStore store = store(dir)) {
      ConfigStore.Content c = store.start(x -> { });
      assertThat(specs(c)).containsExactly("a.testcheck.istio-system={validUseCount=1}");
      assertThat(c.objects().get(0).source()).isEqualTo(Path.of("team", "a", "h.yaml").toString());
    }
  }

  @Test
  void unreadableFilesAreReportedAsSuch(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("bad.yaml"), "kind: rule\nmetadata: {name: x\nspec: {}\n");
    Files.write(dir.resolve("latin1.yaml"), "kind: caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
    try (FsStore store = store(dir)) {
      ConfigStore.Content c = store.start(x -> { });
      assertThat(c.unreadableFiles()).containsExactlyInAnyOrder("bad.yaml", "latin1.yaml");
      assertThat(c.problems()).extracting(ConfigStore.Problem::message).containsExactlyInAnyOrder(
          "not valid UTF-8",
          """
          bad.yaml:3:5: not valid YAML: while parsing a flow mapping
           in 'bad.yaml', line 2, column 11:
              metadata: {name: x
                        ^
          expected ',' or '}', but got :
           in 'bad.yaml', line 3, column 5:
              spec: {}
                  ^""");
    }
  }

  @Test
  void thePollLoopSurvivesAnythingThrownAndKeepsFollowingTheDirectory(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("h.yaml"), handler("a", 1));
    BlockingQueue<ConfigStore.Content> seen = new LinkedBlockingQueue<>();
    AtomicInteger failures = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    try (FsStore store = new FsStore(dir, "istio-system", Duration.ofMillis(20), Duration.ZERO)) {
      store.start(c -> {
        seen.add(c);
        if (calls.incrementAndGet() == 1) {
          throw new StackOverflowError(); // from whatever applies the change
        }
      }, e -> failures.incrementAndGet());
      Files.writeString(dir.resolve("h.yaml"), handler("a", 2));
      assertThat(seen.poll(10, TimeUnit.SECONDS)).isNotNull();
      Files.writeString(dir.resolve("h.yaml"), handler("a", 33));
      ConfigStore.Content later = seen.poll(10, TimeUnit.SECONDS);
      assertThat(later).as("polling goes on after a Throwable").isNotNull();
      assertThat(specs(later)).containsExactly("a.testcheck.istio-system={validUseCount=33}");
      assertThat(failures.get()).isEqualTo(1);
    }
  }

  @Test
  void aHugeFileIsNotReadAndAFifoIsSkipped(@TempDir Path dir) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("huge.yaml").toFile(), "rw")) {
      f.setLength(FsStore.MAX_FILE_BYTES + 1); // sparse: costs no disk
    }
    Process mkfifo = new ProcessBuilder("mkfifo", dir.resolve("pipe.yaml").toString()).start();
    assertThat(mkfifo.waitFor()).isZero(); // reading a FIFO would block the poller forever
    try (FsStore store = store(dir)) {
      ConfigStore.Content c = store.start(x -> { });
      assertThat(c.unreadableFiles()).containsExactly("huge.yaml");
      assertThat(c.problems()).extracting(ConfigStore.Problem::message)
          .containsExactly("too large: 8388609 bytes (expected: at most 8388608)");
    }
  }
}
