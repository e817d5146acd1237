package io.istio4j.ca.testing;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code openssl} binary; a missing binary fails the test with how to install it. */
public final class Openssl {

  /** What a run printed and how it ended. */
  public record Result(int exit, String output) {
    /** Fails unless the exit code is 0. */
    public Result assertOk(String what) {
      if (exit != 0) {
        fail(what + ": openssl exited with " + exit + ":\n" + output);
      }
      return this;
    }
  }

  private Openssl() {}

  /** Runs {@code openssl args...} in {@code dir}, waiting up to a minute. */
  public static Result run(Path dir, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add("openssl");
    command.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("openssl is not installed (needed by this test); install it with "
          + "'apt-get install openssl' (Debian/Ubuntu) or 'dnf install openssl'", e);
    }
    p.getOutputStream().close();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("openssl " + String.join(" ", args) + " did not finish within a minute");
    }
    return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), UTF_8));
  }
}
