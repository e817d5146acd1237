package io.istio4j.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOutputPolicyTest {

  @TempDir Path tmp;

  @Test
  void noFileIsAllowedByDefault() {
    assertThatThrownBy(() -> FileOutputPolicy.none().resolve(tmp.resolve("access.log").toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(tmp.resolve("access.log").toString())
        .hasMessageContaining("--allowedOutputDir");
  }

  @Test
  void aFileInAnAllowedDirectoryOrBelowIsAllowed() throws IOException {
    Path logs = Files.createDirectories(tmp.resolve("logs/mixer"));
    FileOutputPolicy policy = FileOutputPolicy.allowing(List.of(tmp.resolve("logs")));
    assertThat(policy.resolve(logs.resolve("access.log").toString()))
        .isEqualTo(logs.toRealPath().resolve("access.log"));
    assertThat(policy.resolve(tmp.resolve("logs/./x.log").toString())).isEqualTo(logs.getParent().toRealPath().resolve("x.log"));
  }

  @Test
  void aFileOutsideIsRefusedNamingThePathAndTheFlag() throws IOException {
    Files.createDirectories(tmp.resolve("logs"));
    FileOutputPolicy policy = FileOutputPolicy.allowing(List.of(tmp.resolve("logs")));
    assertThatThrownBy(() -> policy.resolve("/etc/passwd"))
        .hasMessageContaining("'/etc/passwd'")
        .hasMessageContaining("outside the directories allowed with --allowedOutputDir");
  }

  @Test
  void dotDotIsRefusedEvenWhenItWouldLandInside() throws IOException {
    Files.createDirectories(tmp.resolve("logs/a"));
    FileOutputPolicy policy = FileOutputPolicy.allowing(List.of(tmp.resolve("logs")));
    assertThatThrownBy(() -> policy.resolve(tmp.resolve("logs/a/../x.log").toString()))
        .hasMessageContaining("'..'");
  }

  @Test
  void aSymlinkedDirectoryPointingOutIsRefused() throws IOException {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createSymbolicLink(logs.resolve("escape"), outside);
    FileOutputPolicy policy = FileOutputPolicy.allowing(List.of(logs));
    assertThatThrownBy(() -> policy.resolve(logs.resolve("escape/x.log").toString()))
        .hasMessageContaining("really " + outside.toRealPath().resolve("x.log"))
        .hasMessageContaining("outside");
  }

  @Test
  void aSymlinkedFileIsRefused() throws IOException {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    Path target = Files.writeString(tmp.resolve("precious"), "keep");
    Files.createSymbolicLink(logs.resolve("access.log"), target);
    FileOutputPolicy policy = FileOutputPolicy.allowing(List.of(logs));
    assertThatThrownBy(() -> policy.resolve(logs.resolve("access.log").toString()))
        .hasMessageContaining("symbolic link");
  }

  @Test
  void openAppendDoesNotFollowALinkPutInPlaceAfterResolving() throws IOException {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    Path target = Files.writeString(tmp.resolve("precious"), "keep");
    Path file = FileOutputPolicy.allowing(List.of(logs)).resolve(logs.resolve("access.log").toString());
    Files.createSymbolicLink(file, target);
    assertThatThrownBy(() -> {
      try (OutputStream out = FileOutputPolicy.openAppend(file)) {
        out.write("x".getBytes(StandardCharsets.UTF_8));
      }
    }).isInstanceOf(IOException.class);
    assertThat(Files.readString(target)).isEqualTo("keep");
  }

  @Test
  void anAllowedDirectoryMustExist() {
    assertThatThrownBy(() -> FileOutputPolicy.allowing(List.of(tmp.resolve("missing"))))
        .hasMessageContaining("--allowedOutputDir")
        .hasMessageContaining("missing");
  }
}
