package io.istio4j.mixer.server.dist;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Assembles the file system the image adds to its base (besides the jars, which Jib layers itself):
 * with {@code --runtime=jlink}, a runtime in {@code /opt/java} holding only the Java modules jdeps
 * finds in the distribution's lib/ (plus {@code --addModules}) and the C libraries it links, copied
 * from this machine, so the base can be {@code scratch}; always {@code /etc/passwd} and
 * {@code /etc/group} naming the non-root user, an empty {@code /tmp} and {@code /etc/mixer/config}.
 */
public final class AssembleImageRoot {

  private static final Pattern LDD_PATH = Pattern.compile("(/\\S+)\\s+\\(0x");

  private static final List<String> DESKTOP_LIBS = List.of("libawt_xawt.so", "libjawt.so", "libsplashscreen.so",
      "libjsound.so", "libfontmanager.so", "liblcms.so", "libjavajpeg.so", "libmlib_image.so");

  private AssembleImageRoot() {}

  /**
   * Runs the assembly.
   *
   * @param args {@code --dist=DIR --root=DIR --addModules=a,b --user=UID --runtime=jlink|none}
   */
  public static void main(String[] args) throws Exception {
    Map<String, String> opts = AssembleDistribution.options(args, "dist", "root");
    Path dist = Path.of(opts.get("dist"));
    Path root = Path.of(opts.get("root"));
    String user = opts.getOrDefault("user", "65532");
    String runtime = opts.getOrDefault("runtime", "jlink");
    if (!user.matches("[1-9][0-9]*")) {
      throw new IllegalArgumentException("--user: expected a numeric non-root uid (not 0), got '" + user + "'");
    }
    Files.createDirectories(root.resolve("etc/mixer/config"));
    Files.createDirectories(root.resolve("tmp"));
    Files.writeString(root.resolve("etc/passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\nmixer:x:" + user + ":" + user + ":mixer:/tmp:/sbin/nologin\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:\nmixer:x:" + user + ":\n");
    switch (runtime) {
      case "none" -> System.out.println("[mixer-build] image runtime: none (the base image's /opt/java)");
      case "jlink" -> jlink(dist.resolve("lib"), root, opts.getOrDefault("addModules", ""));
      default -> throw new IllegalArgumentException("--runtime: expected jlink or none, got '" + runtime + "'");
    }
  }

  static void jlink(Path lib, Path root, String addModules) throws IOException, InterruptedException {
    List<String> jars;
    try (Stream<Path> files = Files.list(lib)) {
      jars = files.map(Path::toString).filter(p -> p.endsWith(".jar")).sorted().collect(Collectors.toList());
    }
    TreeSet<String> modules = modulesOf(jars);
    for (String m : addModules.split(",")) {
      if (!m.isBlank()) {
        modules.add(m.strip());
      }
    }
    Path javaHome = root.resolve("opt/java");
    List<String> args = List.of("--add-modules", String.join(",", modules), "--output", javaHome.toString(),
        "--strip-debug", "--no-header-files", "--no-man-pages", "--compress=2",
        // java.desktop comes for java.beans (logback, YAML); a headless server never loads its
        // display, sound, font and image libraries, which would drag X11 and more into the image.
        "--exclude-files=" + DESKTOP_LIBS.stream().map(l -> "**/" + l).collect(Collectors.joining(",")));
    run("jlink", args);
    System.out.println("[mixer-build] image runtime: jlink " + String.join(",", modules));

    // The C libraries the runtime links (scratch has none), at the paths the loader looks them up.
    TreeSet<String> libs = new TreeSet<>();
    try (Stream<Path> files = Files.walk(javaHome)) {
      for (Path f : files.filter(Files::isRegularFile).collect(Collectors.toList())) {
        if (f.getFileName().toString().endsWith(".so") || f.getParent().getFileName().toString().equals("bin")
            || f.getFileName().toString().equals("jspawnhelper")) {
          libs.addAll(ldd(f));
        }
      }
    }
    for (String l : libs) {
      Path target = root.resolve(l.substring(1));
      Files.createDirectories(target.getParent());
      Files.copy(Path.of(l).toRealPath(), target);
    }
    System.out.println("[mixer-build] image C libraries: " + String.join(" ", libs));
  }

  /**
   * The modules the jars need: those jdeps-known.properties lists for the jars it knows (the server
   * and the bundled adapters' libraries, at their versions), plus what jdeps finds in the others.
   */
  static TreeSet<String> modulesOf(List<String> jars) throws IOException {
    Properties known = new Properties();
    try (InputStream in = AssembleImageRoot.class.getResourceAsStream("jdeps-known.properties")) {
      known.load(requireNonNull(in, "resource jdeps-known.properties"));
    }
    Set<String> knownJars = Set.of(known.getProperty("jars", "").split(","));
    TreeSet<String> modules = new TreeSet<>(Arrays.asList(known.getProperty("modules", "java.base").split(",")));
    List<String> unknown = jars.stream().filter(j -> !knownJars.contains(Path.of(j).getFileName().toString()))
        .collect(Collectors.toList());
    if (!unknown.isEmpty()) {
      List<String> args = new ArrayList<>(List.of("--ignore-missing-deps", "--print-module-deps",
          "--multi-release", "17"));
      // Over every jar, not only the unknown ones: a modular jar among them (jackson's jsr310, say)
      // requires modules of known jars, and jdeps fails to resolve it without them.
      args.addAll(jars);
      // jdeps prints warnings (split packages...) before the list, which is its last line.
      String[] lines = run("jdeps", args).strip().split("\n");
      String found = lines[lines.length - 1].strip();
      if (!found.matches("[a-z][a-z0-9_.]*(,[a-z][a-z0-9_.]*)*")) {
        throw new IllegalStateException("jdeps over " + unknown + " printed no module list: " + found);
      }
      modules.addAll(Arrays.asList(found.split(",")));
      System.out.println("[mixer-build] jdeps over " + unknown.size() + " jar(s): " + found);
    }
    return modules;
  }

  private static String run(String tool, List<String> args) {
    ToolProvider provider = ToolProvider.findFirst(tool).orElseThrow(() -> new IllegalStateException(
        tool + " is missing: the image build needs a JDK with jmods (Debian: apt-get install openjdk-17-jdk-headless "
            + "openjdk-17-jmods)"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc = provider.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), args.toArray(String[]::new));
    if (rc != 0) {
      throw new IllegalStateException(tool + " failed (exit " + rc + "): " + err.toString(StandardCharsets.UTF_8)
          + out.toString(StandardCharsets.UTF_8));
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static List<String> ldd(Path file) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("ldd", file.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("ldd " + file + " did not finish");
    }
    List<String> paths = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.contains("not found") && !line.contains("libjvm.so")) {
        throw new UncheckedIOException(new IOException("ldd " + file + ": " + line.strip()));
      }
      Matcher m = LDD_PATH.matcher(line);
      if (m.find() && !m.group(1).startsWith(file.getParent().toString())
          && !m.group(1).contains("/opt/java/")) {
        paths.add(m.group(1));
      }
    }
    return paths;
  }
}
