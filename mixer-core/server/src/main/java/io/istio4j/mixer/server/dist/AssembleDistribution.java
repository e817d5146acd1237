package io.istio4j.mixer.server.dist;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.Adapter;
import io.istio4j.adapter.template.Template;
import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.server.Mixs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Assembles a Mixer distribution in {@code --dist} whose {@code lib/} Maven has filled: refuses a
 * build that lists a jar which is neither an adapter, a template nor a declared library, or whose
 * adapters clash (two with one name); writes {@code services/} (every ServiceLoader file of lib/
 * merged, one per service, each provider with the jar it comes from), {@code inventory.txt} (what
 * {@code mixs inventory} prints for this build) and {@code bin/mixs}.
 */
public final class AssembleDistribution {

  static final String ADAPTER_SERVICE = "META-INF/services/" + Adapter.class.getName();
  static final String TEMPLATE_SERVICE = "META-INF/services/" + Template.class.getName();

  static final Set<String> MIXER_SERVICES = Set.of(ADAPTER_SERVICE, TEMPLATE_SERVICE);

  private AssembleDistribution() {}

  /**
   * Runs the assembly; exits 1 with a message naming the offending artifact when the build is wrong.
   *
   * @param args {@code --dist=DIR --listed=FILE --libraries=a,b --cdsConfig=DIR --outputDirectory=DIR}
   */
  public static void main(String[] args) {
    Map<String, String> opts = options(args, "dist", "listed");
    try {
      assemble(Path.of(opts.get("dist")), Path.of(opts.get("listed")),
          Set.of(opts.getOrDefault("libraries", "").split(",")),
          opts.containsKey("cdsConfig") ? Path.of(opts.get("cdsConfig")) : null);
      if (opts.containsKey("outputDirectory")) {
        // A build has no classes of its own, but Jib wants the directory to exist.
        Files.createDirectories(Path.of(opts.get("outputDirectory")));
      }
    } catch (BuildException e) {
      System.err.println("[mixer-build] ERROR: " + e.getMessage());
      System.exit(1);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, String> options(String[] args, String... required) {
    Map<String, String> opts = new TreeMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("argument '" + a + "': expected --name=value");
      }
      opts.put(a.substring(2, eq), a.substring(eq + 1));
    }
    for (String name : required) {
      if (opts.get(name) == null || opts.get(name).isEmpty()) {
        throw new IllegalArgumentException("option --" + name + " is required");
      }
    }
    return opts;
  }

  /** A build the assembly refuses. */
  static final class BuildException extends Exception {
    private static final long serialVersionUID = 1L;

    BuildException(String message) {
      super(message);
    }
  }

  static void assemble(Path dist, Path listed, Set<String> libraries, Path cdsConfig)
      throws IOException, BuildException {
    Path lib = dist.resolve("lib");
    checkListed(Files.readAllLines(listed), libraries);

    // Load the build as mixs will: a clash (two adapters of one name, a template twice) fails here.
    String inventory;
    try {
      ClassLoader loader = AssembleDistribution.class.getClassLoader();
      Templates templates = Templates.load(loader);
      Adapters adapters = Adapters.load(loader, templates);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      Mixs.printInventory(new PrintStream(bytes, true, StandardCharsets.UTF_8), templates, adapters);
      inventory = bytes.toString(StandardCharsets.UTF_8);
    } catch (RuntimeException | ServiceConfigurationError e) {
      throw new BuildException("this Mixer build is inconsistent: " + e.getMessage());
    }
    Files.writeString(dist.resolve("inventory.txt"), inventory);
    writeMergedServices(lib, dist.resolve("services"));

    Path bin = Files.createDirectories(dist.resolve("bin"));
    Path mixs = bin.resolve("mixs");
    try (InputStream in = requireNonNull(AssembleDistribution.class.getResourceAsStream("mixs"),
        "resource io/istio4j/mixer/server/dist/mixs")) {
      Files.write(mixs, in.readAllBytes());
    }
    Files.setPosixFilePermissions(mixs, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (cdsConfig != null) {
      Files.createDirectories(cdsConfig);
    }
  }

  /** A terminal colour code, as Maven writes into dependency:list's file when run in a terminal. */
  private static final Pattern ANSI_ESCAPE = Pattern.compile("\\x1B\\[[0-9;]*m");

  /**
   * Each artifact the build lists itself (not those they bring) must provide an adapter or a
   * template, or be named in {@code libraries}: a build that lists a plain library by mistake would
   * otherwise carry it silently.
   *
   * @param lines the output of {@code dependency:list} with absolute file names
   */
  static void checkListed(List<String> lines, Set<String> libraries) throws IOException, BuildException {
    List<String> wrong = new ArrayList<>();
    for (String raw : lines) {
      // Maven colours this file too when its output goes to a terminal.
      String line = ANSI_ESCAPE.matcher(raw).replaceAll("").strip();
      int module = line.indexOf(" -- ");
      if (module >= 0) {
        line = line.substring(0, module).strip();
      }
      String[] parts = line.split(":");
      if (parts.length < 6 || !line.contains("/")) {
        continue; // the header line, or a blank one
      }
      String coordinates = String.join(":", Arrays.copyOf(parts, parts.length - 2));
      String artifactId = parts[1];
      Path file = Path.of(parts[parts.length - 1]);
      if (libraries.contains(artifactId)) {
        continue;
      }
      if (!Files.isRegularFile(file) || !file.toString().endsWith(".jar")) {
        wrong.add(coordinates + " (not a jar: " + file + ")");
        continue;
      }
      try (JarFile jar = new JarFile(file.toFile())) {
        if (jar.getEntry(ADAPTER_SERVICE) == null && jar.getEntry(TEMPLATE_SERVICE) == null) {
          wrong.add(coordinates);
        }
      }
    }
    if (!wrong.isEmpty()) {
      throw new BuildException("the Mixer build lists " + String.join(", ", wrong)
          + ", which provides no adapter or template (no " + ADAPTER_SERVICE + " nor " + TEMPLATE_SERVICE
          + " in the jar). A Mixer build lists adapters and templates only: an adapter's own libraries "
          + "come as its dependencies; to list a library anyway, add its artifactId to the property "
          + "mixer.libraries.");
    }
  }

  /**
   * Writes one file per service of lib/'s jars: each provider, with a comment naming its jar.
   * Refuses an adapter or template provider found in two jars (two copies of one adapter under
   * different coordinates): ServiceLoader would silently load whichever comes first.
   */
  static void writeMergedServices(Path lib, Path out) throws IOException, BuildException {
    Map<String, List<String>> merged = new TreeMap<>();
    List<Path> jars;
    try (Stream<Path> files = Files.list(lib)) {
      jars = files.filter(p -> p.toString().endsWith(".jar")).sorted().collect(Collectors.toList());
    }
    for (Path jarPath : jars) {
      try (JarFile jar = new JarFile(jarPath.toFile())) {
        Enumeration<JarEntry> entries = jar.entries();
        Set<String> names = new TreeSet<>();
        while (entries.hasMoreElements()) {
          String name = entries.nextElement().getName();
          if (name.startsWith("META-INF/services/") && name.length() > "META-INF/services/".length()
              && !name.endsWith("/")) {
            names.add(name);
          }
        }
        for (String name : names) {
          String service = name.substring("META-INF/services/".length());
          String text;
          try (InputStream in = jar.getInputStream(jar.getEntry(name))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          }
          List<String> providers = merged.computeIfAbsent(service, s -> new ArrayList<>());
          for (String l : text.split("\n")) {
            String provider = l.replaceFirst("#.*", "").strip();
            if (provider.isEmpty()) {
              continue;
            }
            String line = provider + "  # " + jarPath.getFileName();
            for (String other : providers) {
              if (other.startsWith(provider + "  # ") && MIXER_SERVICES.contains(name)) {
                throw new BuildException("the Mixer build holds " + provider + " twice, in "
                    + other.substring(other.indexOf("# ") + 2) + " and in " + jarPath.getFileName()
                    + ": two copies of one adapter or template under different coordinates; list one");
              }
            }
            providers.add(line);
          }
        }
      }
    }
    Files.createDirectories(out);
    for (Map.Entry<String, List<String>> e : merged.entrySet()) {
      Files.write(out.resolve(e.getKey()), e.getValue());
    }
  }
}
