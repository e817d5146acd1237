package io.istio4j.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Runs docs/adapter-developer-guide.md: every file it shows is the file in examples/vendor-adapter,
 * written into an empty directory; every {@code sh} block runs in order (blocks marked {@code
 * dir=istio4j} in the istio4j checkout, the others in the new project, which {@code $ACME_PROJECT}
 * names); an {@code output} block lists lines the command before it must print. Maven runs against a scratch local repository, so
 * the vendor project sees istio4j only as the guide's first command published it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeveloperGuideIT {

  private static final Path ROOT = Path.of(System.getProperty("istio4j.root"));
  private static final Path GUIDE = ROOT.resolve("docs/adapter-developer-guide.md");
  private static final Path EXAMPLE = ROOT.resolve("examples/vendor-adapter");
  private static final Path SCRATCH = Path.of(System.getProperty("scratch.dir"));
  private static final long COMMAND_TIMEOUT_MINUTES = 20;

  /** A fenced block: its info words and its text. */
  record Block(String lang, Map<String, String> attributes, String text) {}

  static List<Block> blocks(String markdown) {
    List<Block> blocks = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (!lines[i].startsWith("```") || lines[i].length() == 3) {
        continue;
      }
      String[] info = lines[i].substring(3).trim().split("\\s+");
      Map<String, String> attributes = new TreeMap<>();
      for (int k = 1; k < info.length; k++) {
        String[] kv = info[k].split("=", 2);
        attributes.put(kv[0], kv.length == 2 ? kv[1] : "");
      }
      StringBuilder text = new StringBuilder();
      for (i++; !lines[i].equals("```"); i++) {
        text.append(lines[i]).append('\n');
      }
      blocks.add(new Block(info[0], attributes, text.toString()));
    }
    return blocks;
  }

  @Test
  @Order(1)
  void everyCommandOfTheGuideWorks() throws Exception {
    List<Block> blocks = blocks(Files.readString(GUIDE));
    deleteRecursively(SCRATCH);
    Path project = Files.createDirectories(SCRATCH.resolve("acme-auditlog-adapter"));

    // The files: exactly the example project, all of it.
    List<String> shown = new ArrayList<>();
    for (Block b : blocks) {
      String file = b.attributes().get("file");
      if (file != null) {
        assertThat(b.text()).as("guide block for %s must equal examples/vendor-adapter/%s", file, file)
            .isEqualTo(Files.readString(EXAMPLE.resolve(file)));
        Path target = project.resolve(file);
        Files.createDirectories(target.getParent());
        Files.writeString(target, b.text());
        shown.add(file);
      }
    }
    assertThat(shown).as("every file of examples/vendor-adapter is in the guide")
        .containsExactlyInAnyOrderElementsOf(exampleFiles());

    // The commands, in order.
    Path repo = SCRATCH.resolve("repository");
    Path settings = settings(repo);
    Path shims = Files.createDirectories(SCRATCH.resolve("bin"));
    Path mvn = shims.resolve("mvn");
    Files.writeString(mvn, "#!/bin/sh\nexec \"$ISTIO4J/mvnw\" \"$@\"\n");
    mvn.toFile().setExecutable(true);
    int commands = 0;
    String lastOutput = null;
    for (Block b : blocks) {
      if (b.lang().equals("sh")) {
        Path dir = "istio4j".equals(b.attributes().get("dir")) ? ROOT : project;
        lastOutput = run(b.text(), dir, project, shims, settings, repo);
        commands++;
      } else if (b.attributes().containsKey("output")) {
        assertThat(lastOutput).as("output of the command before the output block").isNotNull();
        for (String line : b.text().split("\n")) {
          assertThat(lastOutput.lines().map(String::stripTrailing)).contains(line.stripTrailing());
        }
      }
    }
    assertThat(commands).isGreaterThanOrEqualTo(3);
    assertThat(Files.exists(repo.resolve("io/istio4j/istio4j-bom"))).as("istio4j published to the scratch repo").isTrue();
    // The mvn shim runs "$ISTIO4J/mvnw": the custom build's commands need ISTIO4J too.
    published = new CustomMixerCheck(ROOT, SCRATCH, Map.of("PATH", shims + ":" + System.getenv("PATH"),
        "MAVEN_ARGS", "-B -s " + settings + " -Dmaven.repo.local=" + repo, "ISTIO4J", ROOT.toString()));
    acmeProject = project;
  }

  private static CustomMixerCheck published;
  private static Path acmeProject;

  /**
   * examples/custom-mixer, built against the repository the guide published istio4j to (the
   * build of istio4j itself is the expensive part, so it is done once for both).
   */
  @Test
  @Order(2)
  void customMixerHoldsExactlyItsAdaptersAndItsImageAnswersChecks() throws Exception {
    String repository = System.getProperty("custom.mixer.repository");
    if (published == null && repository != null) {
      // Quicker, for development: a repository where istio4j is installed already (-o, no guide).
      deleteRecursively(SCRATCH);
      Path shims = Files.createDirectories(SCRATCH.resolve("bin"));
      Files.writeString(shims.resolve("mvn"), "#!/bin/sh\nexec \"" + ROOT.resolve("mvnw") + "\" \"$@\"\n");
      shims.resolve("mvn").toFile().setExecutable(true);
      published = new CustomMixerCheck(ROOT, SCRATCH, Map.of("PATH", shims + ":" + System.getenv("PATH"),
          "MAVEN_ARGS", "-B -o -Dmaven.repo.local=" + repository));
      acmeProject = published.copyExample("vendor-adapter");
    }
    assertThat(published).as("runs after everyCommandOfTheGuideWorks, which publishes istio4j (or give "
        + "-Dcustom.mixer.repository=REPO where istio4j is installed)").isNotNull();
    published.run(acmeProject);
  }

  private static List<String> exampleFiles() throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLE)) {
      return files.filter(Files::isRegularFile)
          .map(p -> EXAMPLE.relativize(p).toString())
          .filter(p -> !p.startsWith("target/"))
          .collect(Collectors.toList());
    }
  }

  /** Settings that resolve what the user's repository already has from it, the rest from Central. */
  private static Path settings(Path repo) throws IOException {
    String userRepo = Path.of(System.getProperty("user.repository")).toUri().toString();
    String xml = "<settings>\n"
        + "  <localRepository>" + repo + "</localRepository>\n"
        + "  <profiles><profile><id>user-repository</id>\n"
        + "    <repositories><repository><id>user-repository</id><url>" + userRepo + "</url>\n"
        + "      <snapshots><enabled>false</enabled></snapshots></repository></repositories>\n"
        + "    <pluginRepositories><pluginRepository><id>user-repository</id><url>" + userRepo + "</url>\n"
        + "      <snapshots><enabled>false</enabled></snapshots></pluginRepository></pluginRepositories>\n"
        + "  </profile></profiles>\n"
        + "  <activeProfiles><activeProfile>user-repository</activeProfile></activeProfiles>\n"
        + "</settings>\n";
    Path settings = SCRATCH.resolve("settings.xml");
    Files.writeString(settings, xml);
    return settings;
  }

  private static String run(String script, Path dir, Path project, Path shims, Path settings, Path repo)
      throws Exception {
    Path log = Files.createTempFile(SCRATCH, "command", ".log");
    ProcessBuilder pb = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
        .directory(dir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("PATH", shims + ":" + env.get("PATH"));
    env.put("ISTIO4J", ROOT.toString());
    env.put("ACME_PROJECT", project.toString()); // the guide's name for the reader's project directory
    env.put("MAVEN_ARGS", "-B -s " + settings + " -Dmaven.repo.local=" + repo);
    Process p = pb.start();
    boolean finished = p.waitFor(COMMAND_TIMEOUT_MINUTES, TimeUnit.MINUTES);
    if (!finished) {
      p.destroyForcibly();
    }
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(finished && p.exitValue() == 0)
        .as("guide command failed in %s:%n%s%n--- output (last 4000 chars) ---%n%s", dir, script,
            output.substring(Math.max(0, output.length() - 4000)))
        .isTrue();
    return output;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
        Files.delete(p);
      }
    }
  }
}
