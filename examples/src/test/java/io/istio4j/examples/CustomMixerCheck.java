package io.istio4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * examples/custom-mixer built as its README says, against the scratch repository the developer
 * guide published istio4j and the ACME adapter to: its inventory holds exactly what it lists, its
 * image is reproducible, and the image, run by podman, answers a Check. Also the builds it must
 * refuse: a missing adapter, a listed jar that is no adapter.
 */
final class CustomMixerCheck {

  static final List<String> ADAPTERS = List.of("auditlog", "blocklist", "budget", "denier", "prometheus");

  private final Path root;
  private final Path scratch;
  private final Map<String, String> env;

  CustomMixerCheck(Path root, Path scratch, Map<String, String> env) {
    this.root = root;
    this.scratch = scratch;
    this.env = env;
  }

  /** The exit code and output of a command. */
  record Result(int exit, String out) {}

  Result sh(Path dir, String script) throws Exception {
    Path log = Files.createTempFile(scratch, "custom-mixer", ".log");
    ProcessBuilder pb = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
        .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(20, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out in " + dir + ": " + script);
    }
    return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
  }

  Result ok(Path dir, String script) throws Exception {
    Result r = sh(dir, script);
    assertThat(r.exit()).as("%s in %s failed:%n%s", script, dir, tail(r.out())).isZero();
    return r;
  }

  static String tail(String s) {
    return s.substring(Math.max(0, s.length() - 4000));
  }

  void run(Path acmeProject) throws Exception {
    // The recipe of examples/custom-mixer/README.md: install the vendor's adapter, then package.
    ok(acmeProject, "mvn -q install -DskipTests");
    Path project = copyExample("custom-mixer");
    ok(project, "mvn -q package");

    // The inventory holds exactly the listed adapters (the ACME jar brings three and a template).
    Path dist = project.resolve("target/mixs");
    String inventory = Files.readString(dist.resolve("inventory.txt"));
    assertThat(adapterNames(inventory)).containsExactlyElementsOf(ADAPTERS);
    assertThat(inventory).contains("auditentry       REPORT");
    assertThat(ok(project, "target/mixs/bin/mixs inventory").out()).contains(inventory);
    try (Stream<Path> lib = Files.list(dist.resolve("lib"))) {
      assertThat(lib.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("istio4j-adapter-") && !n.startsWith("istio4j-adapter-sdk-") || n.startsWith("acme-"))
          .sorted().collect(Collectors.toList()))
          .containsExactly("acme-auditlog-adapter-1.0.0.jar", "istio4j-adapter-denier-0.1.0-SNAPSHOT.jar",
              "istio4j-adapter-prometheus-0.1.0-SNAPSHOT.jar");
    }
    assertThat(dist.resolve("lib/mixs.jsa")).exists();
    assertThat(Files.readString(dist.resolve("services/io.istio4j.adapter.Adapter")))
        .contains("com.acme.mixer.auditlog.AuditLogAdapter  # acme-auditlog-adapter-1.0.0.jar");

    // A config naming an adapter this build does not hold is refused, naming the kind.
    Result quickstart = sh(project, "target/mixs/bin/mixs validate " + root.resolve("examples/quickstart"));
    assertThat(quickstart.exit()).isEqualTo(1);
    assertThat(quickstart.out()).contains("unknown kind 'memquota': no adapter or template of that name in this build");
    assertThat(ok(project, "target/mixs/bin/mixs validate config").out()).contains("0 problem(s)");

    // Reproducible: the runtime and the image made again from the same inputs have the same digest.
    String digest = Files.readString(project.resolve("target/mixs-image.digest")).strip();
    assertThat(digest).startsWith("sha256:");
    ok(project, "mvn -q clean:clean@mixer-dist-fresh dependency:copy-dependencies@mixer-dist-lib "
        + "exec:exec@mixer-image-root jib:buildTar@mixer-image");
    assertThat(Files.readString(project.resolve("target/mixs-image.digest")).strip())
        .as("image digest of a second build from the same inputs").isEqualTo(digest);

    new ImageRun(root, scratch, this).run(project.resolve("target/mixs-image.tar"), "acme/mixs:1.0.0",
        project.resolve("config"));

    // A build listing an adapter that does not exist stops at dependency resolution.
    Path missing = copyExample("custom-mixer", "custom-mixer-missing");
    addDependency(missing, "io.istio4j", "istio4j-adapter-nosuch", "0.1.0-SNAPSHOT");
    Result r = sh(missing, "mvn -q -o package");
    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).contains("io.istio4j:istio4j-adapter-nosuch:jar:0.1.0-SNAPSHOT");

    // A build listing a jar that is no adapter (a library) is refused by name.
    Path library = copyExample("custom-mixer", "custom-mixer-library");
    addDependency(library, "com.google.guava", "guava", null);
    r = sh(library, "mvn -q -o package -Dmixer.image.skip=true -Dmixer.cds.skip=true");
    assertThat(r.exit()).isNotZero();
    assertThat(r.out()).contains("the Mixer build lists com.google.guava:guava:jar:")
        .contains("which provides no adapter or template");
  }

  static List<String> adapterNames(String inventory) {
    List<String> names = new ArrayList<>();
    boolean adapters = false;
    for (String line : inventory.split("\n")) {
      if (line.startsWith("ADAPTERS")) {
        adapters = true;
      } else if (!line.startsWith(" ")) {
        adapters = false;
      } else if (adapters) {
        names.add(line.strip().split("\\s+")[0]);
      }
    }
    return names;
  }

  Path copyExample(String name) throws IOException {
    return copyExample(name, name);
  }

  private Path copyExample(String name, String as) throws IOException {
    Path from = root.resolve("examples").resolve(name);
    Path to = scratch.resolve(as);
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.collect(Collectors.toList())) {
        Path rel = from.relativize(f);
        if (rel.startsWith("target")) {
          continue;
        }
        if (Files.isDirectory(f)) {
          Files.createDirectories(to.resolve(rel.toString()));
        } else {
          Files.copy(f, to.resolve(rel.toString()));
        }
      }
    }
    return to;
  }

  private static void addDependency(Path project, String group, String artifact, String version)
      throws IOException {
    Path pom = project.resolve("pom.xml");
    String dep = "    <dependency>\n      <groupId>" + group + "</groupId>\n      <artifactId>" + artifact
        + "</artifactId>\n" + (version == null ? "" : "      <version>" + version + "</version>\n")
        + "    </dependency>\n  </dependencies>";
    Files.writeString(pom, Files.readString(pom).replace("  </dependencies>", dep));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static int httpStatus(String url) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
