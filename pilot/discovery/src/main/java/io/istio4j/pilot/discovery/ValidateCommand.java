package io.istio4j.pilot.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pilot-discovery validate DIR}: checks a config directory offline exactly as the {@code fs://}
 * store would load it. One line per problem, naming the file, the object and the field; exit 0 when
 * valid, 1 when there is any problem, 2 when the directory cannot be read. For operators' CI.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Checks a config directory offline; prints one line per problem, exits 1 if any.")
final class ValidateCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "DIR",
      description = "Directory of RouteRule, DestinationPolicy and EgressRule YAML, as a path or as fs://DIR.")
  String location;

  @Option(names = "--domain", defaultValue = "cluster.local",
      description = "DNS domain suffix of the mesh (default: ${DEFAULT-VALUE}).")
  String domain;

  PilotComponents components = PilotComponents.standard();

  @Override
  public Integer call() {
    Path dir = Path.of(location.startsWith("fs://") ? location.substring("fs://".length()) : location);
    if (!Files.isDirectory(dir)) {
      System.err.println("pilot-discovery validate: " + dir + " is not a directory");
      return 2;
    }
    List<String> problems;
    try {
      MeshSettings mesh = new MeshSettings(domain, "", MeshSettings.defaultMeshConfig());
      problems = components.validator().validate(dir, mesh);
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      System.err.println("pilot-discovery validate: " + e.getMessage());
      return 2;
    }
    for (String p : problems) {
      System.out.println(p);
    }
    System.err.printf("%s: %d problem(s)%n", dir, problems.size());
    return problems.isEmpty() ? 0 : 1;
  }
}
