package io.istio4j.adapters.stdio;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RotatingFileOutputTest {

  @TempDir
  Path dir;

  /** A 10-byte line: "line-NNNN\n". */
  private static byte[] line(int n) {
    return String.format("line-%04d\n", n).getBytes(UTF_8);
  }

  private List<String> read(String name) throws IOException {
    return Files.readAllLines(dir.resolve(name));
  }

  private List<String> files() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void rotatesBeforeALineWouldTakeTheFilePastTheLimit() throws IOException {
    RotatingFileOutput out = RotatingFileOutput.open(dir.resolve("access.log"), 30, 5);
    for (int i = 1; i <= 7; i++) {
      out.write(line(i));
    }
    out.close();
    assertThat(files()).containsExactly("access.log", "access.log.1", "access.log.2");
    assertThat(read("access.log.2")).containsExactly("line-0001", "line-0002", "line-0003");
    assertThat(read("access.log.1")).containsExactly("line-0004", "line-0005", "line-0006");
    assertThat(read("access.log")).containsExactly("line-0007");
  }

  @Test
  void keepsOnlyMaxRotatedFilesDeletingTheOldest() throws IOException {
    RotatingFileOutput out = RotatingFileOutput.open(dir.resolve("access.log"), 20, 2);
    for (int i = 1; i <= 9; i++) {
      out.write(line(i));
    }
    out.close();
    assertThat(files()).containsExactly("access.log", "access.log.1", "access.log.2");
    assertThat(read("access.log.2")).containsExactly("line-0005", "line-0006");
    assertThat(read("access.log.1")).containsExactly("line-0007", "line-0008");
    assertThat(read("access.log")).containsExactly("line-0009");
  }

  @Test
  void withNoRotatedFilesAFullFileIsStartedAgain() throws IOException {
    RotatingFileOutput out = RotatingFileOutput.open(dir.resolve("access.log"), 20, 0);
    for (int i = 1; i <= 5; i++) {
      out.write(line(i));
    }
    out.close();
    assertThat(files()).containsExactly("access.log");
    assertThat(read("access.log")).containsExactly("line-0005");
  }

  @Test
  void aLimitOfZeroNeverRotates() throws IOException {
    RotatingFileOutput out = RotatingFileOutput.open(dir.resolve("access.log"), 0, 3);
    for (int i = 1; i <= 50; i++) {
      out.write(line(i));
    }
    out.close();
    assertThat(files()).containsExactly("access.log");
    assertThat(read("access.log")).hasSize(50);
  }

  @Test
  void appendsToAnExistingFileAndCountsItsSize() throws IOException {
    Path file = dir.resolve("access.log");
    Files.write(file, List.of("old-0001", "old-0002"), UTF_8); // 18 bytes
    RotatingFileOutput out = RotatingFileOutput.open(file, 30, 3);
    out.write(line(1)); // 28 bytes: fits
    out.write(line(2)); // would be 38: rotates first
    out.close();
    assertThat(read("access.log.1")).containsExactly("old-0001", "old-0002", "line-0001");
    assertThat(read("access.log")).containsExactly("line-0002");
  }

  @Test
  void aLineLongerThanTheLimitGetsAFileOfItsOwn() throws IOException {
    RotatingFileOutput out = RotatingFileOutput.open(dir.resolve("access.log"), 15, 3);
    out.write(line(1));
    out.write(("x".repeat(40) + "\n").getBytes(UTF_8));
    out.write(line(2));
    out.close();
    assertThat(read("access.log.2")).containsExactly("line-0001");
    assertThat(read("access.log.1")).containsExactly("x".repeat(40));
    assertThat(read("access.log")).containsExactly("line-0002");
  }

  @Test
  void whenRotationFailsTheLineIsStillAppended() throws IOException {
    Path file = dir.resolve("access.log");
    RotatingFileOutput out = RotatingFileOutput.open(file, 15, 1);
    Files.createDirectory(out.rotated(1)); // a non-empty directory where access.log.1 should go
    Files.writeString(out.rotated(1).resolve("blocker"), "x");
    out.write(line(1));
    assertThatThrownBy(() -> out.write(line(2)))
        .isInstanceOf(RotatingFileOutput.RotationException.class)
        .hasMessageContaining("still appending");
    out.close();
    assertThat(read("access.log")).containsExactly("line-0001", "line-0002");
  }

  @Test
  void rejectsNegativeLimits() {
    assertThatThrownBy(() -> RotatingFileOutput.open(dir.resolve("a"), -1, 1))
        .hasMessage("maxBytes: -1 (expected: >= 0)");
    assertThatThrownBy(() -> RotatingFileOutput.open(dir.resolve("a"), 1, -1))
        .hasMessage("maxRotatedFiles: -1 (expected: >= 0)");
  }
}
