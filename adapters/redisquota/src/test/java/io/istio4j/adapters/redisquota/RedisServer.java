package io.istio4j.adapters.redisquota;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;

/**
 * A real redis-server for tests, on a free port (or a given one, to restart on the same address),
 * without persistence, stopped by {@link #close()}.
 */
public final class RedisServer implements AutoCloseable {

  private final int port;
  private final Path dir;
  private final String password;
  private Process process;

  private RedisServer(int port, String password) throws IOException {
    this.port = port;
    this.password = password;
    this.dir = Files.createTempDirectory("redis");
  }

  public static RedisServer start() throws Exception {
    return start(freePort());
  }

  public static RedisServer start(int port) throws Exception {
    RedisServer s = new RedisServer(port, null);
    s.launch();
    return s;
  }

  /** A server that takes commands only after AUTH with {@code password} ({@code --requirepass}). */
  public static RedisServer startWithPassword(String password) throws Exception {
    RedisServer s = new RedisServer(freePort(), password);
    s.launch();
    return s;
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  void launch() throws Exception {
    String binary = findBinary();
    List<String> command = new ArrayList<>(List.of(binary, "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString()));
    if (password != null) {
      command.addAll(List.of("--requirepass", password));
    }
    process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("redis.log").toFile())
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Jedis j = new Jedis("127.0.0.1", port, 200)) {
        if (password != null) {
          j.auth(password);
        }
        if ("PONG".equals(j.ping())) {
          return;
        }
      } catch (RuntimeException e) {
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException("redis-server did not start on port " + port + ": "
        + Files.readString(dir.resolve("redis.log")));
  }

  private static String findBinary() {
    for (String p : new String[] {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
      if (Files.isExecutable(Path.of(p))) {
        return p;
      }
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(":")) {
        if (Files.isExecutable(Path.of(d, "redis-server"))) {
          return Path.of(d, "redis-server").toString();
        }
      }
    }
    throw new IllegalStateException("redis-server not found: install it (Debian: apt-get install -y redis-server)");
  }

  public int port() {
    return port;
  }

  public String url() {
    return "localhost:" + port;
  }

  /** Kills the server (as a crash would: no save, connections dropped). */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }
}
