package io.istio4j.mixer.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image's MIXS_REFUSE_ROOT: mixs stops when its effective uid is 0, and only then. */
class RootRefusalTest {

  @TempDir
  Path dir;

  @Test
  void refusesAnEffectiveRootOnlyWhenAsked() throws Exception {
    Path root = Files.writeString(dir.resolve("root"), "Name:\tjava\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
    Path user = Files.writeString(dir.resolve("user"), "Name:\tjava\nUid:\t65532\t65532\t65532\t65532\n");

    assertThat(Mixs.rootRefusal("true", root)).contains("refusing to run as root (uid 0)")
        .contains("MIXS_REFUSE_ROOT=false");
    assertThat(Mixs.rootRefusal("true", user)).isNull();
    assertThat(Mixs.rootRefusal(null, root)).as("outside the image, root may run mixs").isNull();
    assertThat(Mixs.rootRefusal("false", root)).isNull();
    assertThat(Mixs.rootRefusal("true", dir.resolve("missing"))).isNull();
  }
}
