package io.istio4j.mixer.server;

import io.istio4j.mixer.runtime.Adapters;
import io.istio4j.mixer.runtime.ObjectStatus;
import io.istio4j.mixer.runtime.RuntimeOptions;
import io.istio4j.mixer.runtime.Snapshot;
import io.istio4j.mixer.runtime.SnapshotBuilder;
import io.istio4j.mixer.runtime.Templates;
import io.istio4j.mixer.runtime.config.ConfigStore;
import io.istio4j.mixer.runtime.config.FsStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mixs validate DIR} (or {@code fs://DIR}, as {@code --configStoreURL} takes it): checks a
 * config directory offline, with the adapters and templates of this build, exactly as the server
 * would load it, except that handlers are never built (their configs are validated by their
 * adapters; no port is bound, no backend contacted). One line per problem; exit 1 when there is
 * any, so operators can run it in CI.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Checks a config directory offline; prints one line per problem, exits 1 if any.")
final class ValidateCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR",
      description = "Directory of .yaml/.yml config files, as a path or as fs://DIR.")
  String location;

  @Option(names = "--configDefaultNamespace", defaultValue = "istio-system",
      description = "Namespace whose rules apply to every request (default: ${DEFAULT-VALUE}).")
  String defaultNamespace;

  @Override
  public Integer call() {
    Path dir = Path.of(location.startsWith("fs://") ? location.substring("fs://".length()) : location);
    if (!Files.isDirectory(dir)) {
      System.err.println("mixs validate: " + dir + " is not a directory");
      return 2;
    }
    ClassLoader loader = ValidateCommand.class.getClassLoader();
    Templates templates = Templates.load(loader);
    Adapters adapters = Adapters.load(loader, templates);
    ConfigStore.Content content;
    try (FsStore store = new FsStore(dir, defaultNamespace, Duration.ofSeconds(1))) {
      content = store.read();
    } catch (IOException e) {
      System.err.println("mixs validate: " + e.getMessage());
      return 2;
    }
    RuntimeOptions options = RuntimeOptions.DEFAULTS.withDefaultNamespace(defaultNamespace);
    Snapshot snapshot = SnapshotBuilder.forValidation(templates, adapters, options).build(content, null, 1);
    int problems = 0;
    int objects = 0;
    for (ObjectStatus s : snapshot.statuses()) {
      objects++;
      if (s.isRejection()) {
        problems++;
        System.out.println(s.describe());
      }
    }
    System.err.printf("%s: %d object(s), %d rule(s), %d problem(s)%n", dir, objects, snapshot.ruleCount(), problems);
    return problems == 0 ? 0 : 1;
  }
}
