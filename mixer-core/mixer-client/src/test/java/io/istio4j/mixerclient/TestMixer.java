package io.istio4j.mixerclient;

import io.istio4j.mixer.server.MixerServer;
import io.istio4j.mixer.server.ServerOptions;
import io.istio4j.mixer.server.TracingOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real Mixer for integration tests, in-process, with the quickstart's attribute manifests and
 * policy (a denier for {@code x-user: mallory}, a whitelist of ratings' callers, memquota): the
 * quickstart minus its telemetry, whose Prometheus port is fixed.
 */
public final class TestMixer implements AutoCloseable {

  /** The repository's root, from this module's directory. */
  static final Path ROOT = Path.of("").toAbsolutePath().getParent().getParent();

  private final Path config;
  private final int port;
  private final TracingOptions tracing;
  private MixerServer server;

  private TestMixer(Path config, int port, TracingOptions tracing) throws IOException {
    this.config = config;
    this.port = port;
    this.tracing = tracing;
    this.server = start();
  }

  /** Starts Mixer on a free port with the quickstart policy copied into {@code dir}. */
  public static TestMixer start(Path dir) throws IOException {
    return start(dir, TracingOptions.DISABLED);
  }

  /** As {@link #start(Path)}, tracing as {@code tracing} says (Mixer's {@code --zipkinURL}). */
  public static TestMixer start(Path dir, TracingOptions tracing) throws IOException {
    Path quickstart = ROOT.resolve("examples/quickstart");
    if (!Files.isDirectory(quickstart)) {
      throw new IllegalStateException("examples/quickstart not found under " + ROOT
          + " (run the tests from the mixer-core/mixer-client module directory)");
    }
    Files.copy(quickstart.resolve("attributes.yaml"), dir.resolve("attributes.yaml"));
    Files.copy(quickstart.resolve("policy.yaml"), dir.resolve("policy.yaml"));
    return new TestMixer(dir, freePort(), tracing);
  }

  private MixerServer start() throws IOException {
    return MixerServer.start(ServerOptions.ephemeral().withConfigStoreUrl("fs://" + config)
        .withAddress("127.0.0.1", port), tracing);
  }

  /** {@code 127.0.0.1:port}. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /** Stops the server (the port stays this Mixer's for {@link #restart}). */
  public void stop() throws InterruptedException {
    server.close();
  }

  /** Starts the server again on the same port. */
  public void restart() throws IOException {
    server = start();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.close();
  }
}
